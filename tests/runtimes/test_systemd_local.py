"""A systemd runtime without a host means this machine's own systemd; here PID 1 is not
systemd, so every way in (the gate, a chaos plan, the runtime) refuses saying so."""

from pathlib import Path

import pytest

from opsproof.config.loader import load_environment
from opsproof.errors import SafetyError
from opsproof.faults.feasibility import plan_problems
from opsproof.runtimes.systemd import local_systemd_refusal
from opsproof.workers import process_probes, runtime_of

CONFIG = """\
version: 1
environments:
  lab:
    chaos: allowed
    services:
      ticker:
        kind: process
        runtime: {systemd: {unit: ticker.service}}
    chaos_plan:
      may_hit: [ticker]
      experiments:
        - name: ticker killed
          fault: {action: kill, service: ticker}
"""


def test_a_local_unit_is_refused_naming_pid_1(tmp_path: Path) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(CONFIG)
    env = load_environment(config, "lab").environment
    service = env.services["ticker"]
    init = Path("/proc/1/comm").read_text().strip()
    assert not Path("/run/systemd/system").is_dir(), "this test is for a machine without systemd"

    with pytest.raises(SafetyError, match=r"services\.ticker\.runtime\.systemd: no host") as err:
        runtime_of("ticker", service.runtime, tmp_path, env.hosts)  # type: ignore[union-attr]
    [problem] = plan_problems("lab", env, tmp_path)
    [alive] = process_probes("ticker", service, tmp_path, env.hosts)  # type: ignore[arg-type]

    assert f"PID 1 is {init!r}, not systemd" in str(err.value)
    assert problem.path == ("services", "ticker", "runtime", "systemd")
    assert problem.message == local_systemd_refusal()
    assert not alive().ok and "not systemd" in alive().reason
