"""The shipped examples/testhost.yaml, run as a user runs it: ``eval "$(opsproof testhost
status --shell)"`` then ``opsproof run gate``; the gate passes against the guest."""

import os
import shlex
import subprocess
import sys
from pathlib import Path

from opsproof.cli_testhost import shell_variables
from opsproof.testhost.machine import GuestState

EXAMPLE = Path(__file__).parents[2] / "examples" / "testhost.yaml"


def _exported(script: str) -> dict[str, str]:
    return dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1) for line in script.splitlines()
    )


def test_the_example_gate_passes_against_the_guest(guest: GuestState, tmp_path: Path) -> None:
    # a state directory of its own: the runtime health baseline is this run's first reading,
    # whatever other tests did to the guest's units before
    state = {"OPSPROOF_STATE_DIR": str(tmp_path / "state")}
    environ = {**os.environ, **_exported(shell_variables(guest)), **state}
    done = subprocess.run(
        [sys.executable, "-m", "opsproof.cli", "run", "gate", "--env", "testhost",
         "--config", str(EXAMPLE), "--reports-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env=environ, check=False, cwd=tmp_path,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [summary] = tmp_path.glob("*-gate-testhost/summary.md")
    text = summary.read_text()
    assert guest.ssh_url in text
    for unit in ("redis-server.service", "postgresql@15-main.service"):
        [item] = [
            line for line in text.splitlines() if "test_runtime_health[" in line and unit in line
        ]
        assert item.startswith("| ✅"), item
