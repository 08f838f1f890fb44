"""The runtime health item run as a user runs the gate: a process declared only in YAML, the
first run recording the baseline in the state directory, the next one failing on the restart
that happened in between."""

import sys
import textwrap
from pathlib import Path

from opsproof.config.models import ProcessRuntimeSpec
from opsproof.runtimes import ProcessRuntime, ProcessTarget
from tests.gate.conftest import run_gate

SLEEPER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(120)"


def test_a_restart_between_two_gate_runs_fails_the_second(tmp_path: Path) -> None:
    pid_file, state = tmp_path / "ticker.pid", tmp_path / "state"
    start = [sys.executable, "-c", SLEEPER, str(pid_file)]
    config = tmp_path / "opsproof.yaml"
    config.write_text(
        textwrap.dedent(f"""\
        version: 1
        environments:
          mine:
            runtime_health:
              budget: {{memory: 200MiB}}
            services:
              ticker:
                kind: process
                runtime: {{process: {{pid_file: {pid_file}}}}}
        """)
    )
    spec = ProcessRuntimeSpec(pid_file=pid_file, start=start)
    ticker = ProcessRuntime(ProcessTarget(name="ticker", spec=spec, state_dir=tmp_path))
    ticker.start(20)
    try:
        args = ("-k", "runtime_health")
        first = run_gate(state, tmp_path / "r1", *args, config=config, env="mine")
        ticker.restart(20)
        second = run_gate(state, tmp_path / "r2", *args, config=config, env="mine")
    finally:
        ticker.kill()

    assert first.returncode == 0, first.output
    notes = {f["name"]: f["value"] for f in first.check("test_runtime_health")["figures"]}
    assert "first reading: recorded as the baseline" in str(notes["notes"])
    assert (state / "runtime-health" / "mine" / "ticker.json").is_file()
    assert second.returncode == 1
    failed = second.check("test_runtime_health")
    assert failed["verdict"] == "failed" and "started anew since" in failed["reason"]
