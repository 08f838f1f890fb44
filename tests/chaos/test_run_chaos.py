"""``opsproof run chaos`` end to end: experiments run through pytest and land in evidence."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from opsproof.stack.state import StackState

WriteConfig = Callable[..., Path]
PLAN = """\
may_hit: [redis]
recovery: {within: 15s, consecutive: 3}
experiments:
  - name: redis killed
    fault: {action: kill, service: redis}
    expect:
      - service: api
        request: {method: GET, path: /health/deep}
        expect: {status: 503, json: {failed: [redis]}, max_latency: 1s}
        within: 1s
"""


def test_run_chaos_writes_experiment_evidence(
    healthy_stack: StackState, stack_dir: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    reports = tmp_path / "runs"
    command = [
        sys.executable, "-m", "opsproof.cli", "run", "chaos", "--env", "lab",
        "--config", str(write_config(PLAN)), "--state-dir", str(stack_dir),
        "--reports-dir", str(reports),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = reports.iterdir()
    assert run_dir.name.endswith("-chaos-lab")
    evidence = json.loads((run_dir / "evidence.json").read_text())
    (experiment,) = evidence["experiments"]
    assert experiment["verdict"] == "passed" and experiment["fault"] == "SIGKILL process://redis"
    assert 0 < experiment["time_to_impact_s"] <= 1 and experiment["recovery_target_s"] == 15
    (check,) = evidence["checks"]
    figures = {f["name"]: f for f in check["figures"]}
    assert figures["recovery_s"]["target"] == "<= 15"
