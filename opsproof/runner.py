"""``opsproof run``: build the pytest command line for a suite and run it.

pytest is the engine: everything done here can also be done with ``pytest checks --env NAME``.
The runner only adds what a person expects from one command: the reference stack is started when
the environment needs it (and stopped again only if this run started it).
"""

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from opsproof.config.loader import load_environment
from opsproof.paths import SUITES
from opsproof.stack.launcher import start_stack, stop_stack
from opsproof.stack.state import StackState

DEFAULT_RUN_TIMEOUT = 3600.0


@dataclass(frozen=True)
class RunRequest:
    kind: str
    environment: str
    config: Path
    state_dir: Path
    reports_dir: Path | None = None
    workers: int = 0
    extra_args: tuple[str, ...] = ()
    timeout: float = DEFAULT_RUN_TIMEOUT


def pytest_command(request: RunRequest) -> list[str]:
    """The exact pytest invocation for a run; printed so a person can repeat it."""
    command = [
        sys.executable, "-m", "pytest", str(SUITES[request.kind]),
        "--env", request.environment,
        "--config", str(request.config),
        "--stack-state-dir", str(request.state_dir),
        "--run-kind", request.kind,
        "-p", "no:cacheprovider",
    ]  # fmt: skip
    if request.reports_dir is not None:
        command += ["--reports-dir", str(request.reports_dir)]
    if request.workers:
        command += ["-n", str(request.workers)]
    return command + list(request.extra_args)


def _needs_reference_stack(request: RunRequest) -> bool:
    """Whether the environment declares ``stack: reference`` (read without the stack's values)."""
    loaded = load_environment(request.config, request.environment, stack=_no_stack_yet)
    return loaded.environment.stack == "reference"


def _no_stack_yet() -> StackState | None:
    raise _StackNeeded


class _StackNeeded(Exception):
    """The environment interpolates ``${stack.*}`` values: it needs the reference stack."""


def execute(request: RunRequest, progress: Callable[[str], None]) -> int:
    """Run the suite; return pytest's exit code."""
    try:
        needs_stack = _needs_reference_stack(request)
    except _StackNeeded:
        needs_stack = True
    started_here = False
    if needs_stack:
        _, started_here = start_stack(request.state_dir, progress=progress)
    try:
        command = pytest_command(request)
        progress("$ " + " ".join(command))
        return _run(command, request.timeout)
    finally:
        if started_here:
            progress("stopping the reference stack this run started")
            stop_stack(request.state_dir)


def _run(command: Sequence[str], timeout: float) -> int:
    try:
        return subprocess.run(command, check=False, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        print(f"opsproof: the run exceeded {timeout:.0f} s and was stopped", file=sys.stderr)
        return 3
