"""Run the real gate suite in a subprocess, exactly as a user would, and read its evidence."""

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from opsproof.paths import SHIPPED_CONFIG
from opsproof.runtimes.launched import StackState
from tests.project import PROJECT_ROOT, UNUSED_PLUGINS

GATE_TIMEOUT = 180.0


@dataclass
class GateRun:
    returncode: int
    output: str
    evidence: dict[str, Any]
    """Empty when no run directory was written (the run stopped before any test)."""
    run_dir: Path | None

    def check(self, fragment: str) -> dict[str, Any]:
        """The one check whose id contains ``fragment``."""
        found = [c for c in self.evidence["checks"] if fragment in c["id"]]
        assert len(found) == 1, f"{fragment!r} matches {[c['id'] for c in found]}"
        return found[0]


def run_gate(
    state_dir: Path,
    reports_dir: Path,
    *args: str,
    config: Path = SHIPPED_CONFIG,
    env: str = "reference",
) -> GateRun:
    command = [
        sys.executable, "-m", "pytest", str(PROJECT_ROOT / "checks"),
        "--env", env, "--config", str(config),
        "--stack-state-dir", str(state_dir), "--reports-dir", str(reports_dir),
        *UNUSED_PLUGINS, "-q", *args,
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=GATE_TIMEOUT, cwd=PROJECT_ROOT
    )
    output = done.stdout + done.stderr
    run_dirs = sorted(reports_dir.iterdir()) if reports_dir.exists() else []
    if not run_dirs:
        return GateRun(done.returncode, output, {}, None)
    evidence = json.loads((run_dirs[-1] / "evidence.json").read_text())
    return GateRun(done.returncode, output, evidence, run_dirs[-1])


@pytest.fixture
def stack_state_dir(reference_stack: StackState) -> Path:
    return Path(reference_stack.values["state_file"]).parent


@pytest.fixture
def gate(stack_state_dir: Path, tmp_path: Path) -> Callable[..., GateRun]:
    """``gate(*pytest_args, config=..., env=...)`` runs the gate against the session's stack.

    Other tests restart the session stack's components on purpose (outages, chaos), which the
    runtime health items rightly count as restarts since the previous gate run; each gate here
    judges the stack as it is now, from a first reading (restarts between runs: tests/health)."""
    counter = iter(range(1000))

    def run(*args: str, config: Path = SHIPPED_CONFIG, env: str = "reference") -> GateRun:
        shutil.rmtree(stack_state_dir / "runtime-health", ignore_errors=True)
        reports = tmp_path / f"reports-{next(counter)}"
        return run_gate(stack_state_dir, reports, *args, config=config, env=env)

    return run
