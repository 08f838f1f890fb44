"""The shipped examples/testhost.yaml run as a user runs it: ``eval "$(opsproof testhost status
--shell)"``, then ``opsproof run <kind> --env testhost --config examples/testhost.yaml``."""

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


def run_example(kind: str, guest: GuestState, reports: Path) -> subprocess.CompletedProcess[str]:
    """The run, its reports under ``reports`` and a state directory of its own there (the
    runtime health baseline is this run's first reading, whatever other tests did before)."""
    state = {"OPSPROOF_STATE_DIR": str(reports / "state")}
    environ = {**os.environ, **_exported(shell_variables(guest)), **state}
    return subprocess.run(
        [sys.executable, "-m", "opsproof.cli", "run", kind, "--env", "testhost",
         "--config", str(EXAMPLE), "--reports-dir", str(reports)],
        capture_output=True, text=True, timeout=600, env=environ, check=False, cwd=reports,
    )  # fmt: skip
