"""``opsproof run``: build the pytest command line for a suite and run it.

pytest is the engine: everything done here can also be done with ``pytest checks --env NAME``.
The runner only adds what a person expects from one command: the reference stack is started when
the environment needs it and none is running (and stopped again only if this run started it).
A recorded stack that is partly dead is judged as it is, never repaired: a gate that restarts
what it judges can only pass. Only ``opsproof stack up`` replaces it.
"""

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from opsproof.config.loader import declared_stack, environment_names
from opsproof.errors import StackError
from opsproof.paths import ALL, SUITES
from opsproof.runtimes.launched import StackState
from opsproof.stack.docker.stack import recorded_runtime, start_docker_stack, stop_docker_stack
from opsproof.stack.launcher import start_stack, stop_stack

Progress = Callable[[str], None]
DEFAULT_ENVIRONMENT = "reference"
PROCESS_STACK = "reference"
DOCKER_STACK = "reference-docker"
RUNTIMES = {PROCESS_STACK: "process", DOCKER_STACK: "docker"}
"""The runtime each value of an environment's ``stack:`` runs its components with."""

DEFAULT_RUN_TIMEOUT = 3600.0
MAIN_JOB = ("gate", "dr", "chaos", "load")
"""What ``opsproof run all`` runs, in order: the gate first, so a broken deployment is named
before anything destructive or noisy runs against it."""
MAIN_JOB_ARGS = {"load": ("--load-time-scale", "0.05")}
"""``run all`` is a bounded pass: the 16-minute runbook ramp runs at 5% time scale (48 s)."""


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
        # no suite uses it, and it imports hypothesis for its summary: the largest part of the
        # work left after a Ctrl-C (assertion-rewritten on every run without bytecode caching)
        "-p", "no:hypothesispytest",
        # Schemathesis's plugin serves its own decorators; the API contract items use it as a
        # library, imported only when an environment declares api_contract
        "-p", "no:schemathesis",
    ]  # fmt: skip
    if request.reports_dir is not None:
        command += ["--reports-dir", str(request.reports_dir)]
    if request.workers:
        command += ["-n", str(request.workers)]
    return command + list(request.extra_args)


def _suite_requests(request: RunRequest) -> list[RunRequest]:
    if request.kind != ALL:
        return [request]
    return [
        replace(request, kind=kind, extra_args=MAIN_JOB_ARGS.get(kind, ()) + request.extra_args)
        for kind in MAIN_JOB
    ]


def choose_environment(config: Path, state_dir: Path, progress: Progress) -> str:
    """The environment a run without ``--env`` verifies: the one for the recorded stack's
    runtime (a docker stack is not described by ``reference``), else ``reference``."""
    if recorded_runtime(state_dir) != "docker":
        return DEFAULT_ENVIRONMENT
    name = _environment_for(config, DOCKER_STACK)
    if name is None:
        return DEFAULT_ENVIRONMENT  # the run then says the stack does not fit, in one line
    progress(
        f"opsproof: verifying environment {name!r}: the reference stack recorded in {state_dir} "
        "runs as docker containers (--env chooses another)"
    )
    return name


def _environment_for(config: Path, stack: str) -> str | None:
    """The first environment in ``config`` that declares ``stack: <stack>``."""
    return next((n for n in environment_names(config) if declared_stack(config, n) == stack), None)


def _provide_stack(request: RunRequest, stack: str, progress: Progress) -> bool:
    """Start the declared reference stack when none is running; True when this run started it.
    A recorded stack of the other runtime is refused, one partly dead is left as it is."""
    docker = stack == DOCKER_STACK
    recorded = recorded_runtime(request.state_dir)
    if StackState.load(request.state_dir) is not None and recorded != RUNTIMES[stack]:
        raise _mismatch(request, stack, recorded)
    if docker:
        _, started = start_docker_stack(request.state_dir, progress=progress, keep_partial=True)
    else:
        _, started = start_stack(request.state_dir, progress=progress, keep_partial=True)
    return started


def _mismatch(request: RunRequest, stack: str, recorded: str) -> StackError:
    fits = next((name for name, runtime in RUNTIMES.items() if runtime == recorded), None)
    env = _environment_for(request.config, fits) if fits else None
    use = f"use --env {env}, or " if env else ""
    return StackError(
        f"the reference stack recorded in {request.state_dir} is the {recorded} one, but "
        f"environment {request.environment!r} declares `stack: {stack}`: {use}stop it first "
        "(opsproof stack down)"
    )


def execute(request: RunRequest, progress: Progress) -> int:
    """Run the suite (or, for ``all``, each suite in turn); return pytest's exit code.

    For ``all``, the first failing suite's exit code is returned, but every suite still runs:
    a failed gate must not hide what chaos or the DR drill would have found.
    """
    stack = declared_stack(request.config, request.environment)
    started_here = _provide_stack(request, stack, progress) if stack else False
    try:
        exit_codes = []
        for suite in _suite_requests(request):
            command = pytest_command(suite)
            progress("$ " + " ".join(command))
            exit_codes.append(_run(command, suite.timeout))
            if exit_codes[-1] and suite.kind != request.kind:
                progress(f"opsproof: the {suite.kind} suite failed (exit {exit_codes[-1]})")
        return next((code for code in exit_codes if code), 0)
    finally:
        if started_here:
            progress("stopping the reference stack this run started")
            stop = stop_docker_stack if stack == DOCKER_STACK else stop_stack
            stop(request.state_dir)


def _run(command: Sequence[str], timeout: float) -> int:
    try:
        return subprocess.run(command, check=False, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        print(f"opsproof: the run exceeded {timeout:.0f} s and was stopped", file=sys.stderr)
        return 3
