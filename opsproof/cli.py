"""The ``opsproof`` command: a thin layer over pytest and the reference stack.

Errors a user can cause (bad config, stack that will not start) print one clear message and
exit 2, a config error 4 as under pytest; the exit code of ``opsproof run`` is pytest's.
"""

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import click

from opsproof import __version__
from opsproof.cli_chaos import revert
from opsproof.cli_config import config, init
from opsproof.cli_report import report
from opsproof.cli_testhost import testhost
from opsproof.errors import ConfigError, OpsproofError
from opsproof.paths import ALL, SUITES, find_config
from opsproof.runtimes.launched import default_state_dir

P = ParamSpec("P")
R = TypeVar("R")
USAGE_ERROR = 2
CONFIG_ERROR = 4
"""pytest's usage error, which a config error is under pytest: one code whichever reports it."""

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the reference stack records its processes "
    "(default: $OPSPROOF_STATE_DIR or ~/.local/state/opsproof).",
)


def _progress(message: str) -> None:
    click.echo(message, err=True)


def _friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn opsproof's own errors into one message and exit 2 (4 for a config error), never a
    traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except OpsproofError as error:
            click.echo(f"opsproof: {error}", err=True)
            sys.exit(CONFIG_ERROR if isinstance(error, ConfigError) else USAGE_ERROR)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="opsproof")
def main() -> None:
    """Operational verification as pytest suites.

    Runs the deploy gate, backup-restore drills, chaos experiments and load profiles against
    your deployment as described in opsproof.yaml, or against the embedded reference stack
    when no config is given, and writes evidence to reports/runs/.

    \b
    Quick start:
      opsproof doctor          what is installed, what is missing, how to fix it
      opsproof init --from docker-compose.yml    a first opsproof.yaml, guesses marked
      opsproof config check    validate opsproof.yaml (exit 0 valid, 2 invalid)
      opsproof run gate        the deploy gate against the reference stack
      opsproof run all         every suite in turn (the main job)
      opsproof run gate --env staging --config opsproof.yaml
      opsproof report verify reports/runs/<run>   is this evidence intact?
    """


@main.group()
def stack() -> None:
    """The embedded reference stack: nginx (TLS) → API → Redis + PostgreSQL, and a worker.

    All components are real programs on free 127.0.0.1 ports with data in a temporary directory.
    """


runtime_option = click.option(
    "--runtime",
    type=click.Choice(["process", "docker"]),
    default=None,
    help="Local processes, or containers (images built locally, host network on 127.0.0.1); "
    "default: the recorded stack's, else process.",
)


@stack.command("up")
@state_dir_option
@runtime_option
@click.option("--timeout", default=90.0, show_default=True, help="Seconds to wait for readiness.")
@_friendly_errors
def stack_up(state_dir: Path | None, runtime: str | None, timeout: float) -> None:
    """Start the reference stack (does nothing if it is already running)."""
    from opsproof.stack.docker.stack import recorded_runtime, start_docker_stack
    from opsproof.stack.launcher import start_stack

    state_dir = state_dir or default_state_dir()
    if (runtime or recorded_runtime(state_dir)) == "docker":
        state, started = start_docker_stack(state_dir, timeout=timeout, progress=_progress)
    else:
        state, started = start_stack(state_dir, timeout=timeout, progress=_progress)
    word = "started" if started else "already running"
    click.echo(f"reference stack {word}: {state.values['api.url']} (data in {state.root})")


@stack.command("down")
@state_dir_option
@runtime_option
@click.option("--keep-volumes", is_flag=True, help="docker: keep the data volumes.")
@_friendly_errors
def stack_down(state_dir: Path | None, runtime: str | None, keep_volumes: bool) -> None:
    """Stop every component of the reference stack and remove its data."""
    from opsproof.stack.docker.stack import recorded_runtime, stop_docker_stack
    from opsproof.stack.launcher import stop_stack

    state_dir = state_dir or default_state_dir()
    if (runtime or recorded_runtime(state_dir)) == "docker":
        stopped = stop_docker_stack(state_dir, keep_volumes=keep_volumes)
    else:
        stopped = stop_stack(state_dir)
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "no reference stack was running")


@stack.command("status")
@state_dir_option
@runtime_option
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@_friendly_errors
def stack_status_command(state_dir: Path | None, runtime: str | None, as_json: bool) -> None:
    """Show each component with its URL or port, PID (and container) and whether it is alive:
    the core five, then Prometheus, Alertmanager and the exporters.

    Exit status 0 when every component is alive, 1 otherwise, 3 when no stack is recorded.
    """
    from opsproof.stack.docker.stack import docker_stack_status, recorded_runtime
    from opsproof.stack.launcher import stack_status

    state_dir = state_dir or default_state_dir()
    docker = (runtime or recorded_runtime(state_dir)) == "docker"
    status = docker_stack_status(state_dir) if docker else stack_status(state_dir)
    if status is None:
        click.echo(json.dumps({"running": False, "components": []}) if as_json else "no stack")
        sys.exit(3)
    if as_json:
        click.echo(json.dumps(status.as_dict(), indent=2))
    else:
        for component in status.components:
            where = component.url or (f"127.0.0.1:{component.port}" if component.port else "-")
            alive = "alive" if component.alive else "DEAD"
            container = f"{component.container:<18} " if component.container else ""
            click.echo(f"{component.name:<17} {alive:<5} pid {component.pid:<8} {container}{where}")
    sys.exit(0 if status.running else 1)


@main.command(
    "run",
    context_settings={"ignore_unknown_options": True},
)
@click.argument("kind", type=click.Choice([ALL, *sorted(SUITES)]))
@click.option(
    "--env",
    "environment",
    default=None,
    help="Environment in the config (default: reference, or reference-docker when the "
    "recorded stack runs as containers).",
)
@click.option(
    "--config",
    # no dir_okay=False: the loader refuses what is not a regular file as a config error (4)
    type=click.Path(path_type=Path),
    default=None,
    help="Config file (default: $OPSPROOF_CONFIG, ./opsproof.yaml, or the shipped one).",
)
@state_dir_option
@click.option(
    "--reports-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where run directories go (default: reports/runs in the current directory).",
)
@click.option(
    "-n", "--workers", default=0, show_default=True, help="pytest-xdist workers (0: serial)."
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
@_friendly_errors
def run(
    kind: str,
    environment: str | None,
    config: Path | None,
    state_dir: Path | None,
    reports_dir: Path | None,
    workers: int,
    pytest_args: tuple[str, ...],
) -> None:
    """Run a suite and write its evidence; the exit status is pytest's.

    \b
    KIND  gate: the deploy gate (health, dependencies, smoke steps, TLS, metrics, host)
          chaos: the environment's chaos experiments (add -- --dry-run to print the plan only)
          load: the k6-style load profile (--load-profile, --load-time-scale 0.01 after --)
          dr: backups restored to scratch and compared, existing backups, the DR drill
          all: the main job: gate, dr, chaos and load in turn (load at 5% time scale),
               each with its own evidence; exit status of the first suite that failed

    Arguments after -- go to pytest unchanged, e.g. `opsproof run gate -- -k redis -x`.
    With neither --env nor --config, the reference environment is verified (reference-docker
    when the recorded stack runs as containers). The reference stack is started if none is
    running and stopped afterwards only if this run started it; a stack with dead components
    is judged as it is, never restarted: `opsproof stack up` replaces it.
    """
    from opsproof.runner import RunRequest, choose_environment, execute

    config = find_config(config, Path.cwd(), os.environ.get("OPSPROOF_CONFIG"))
    state_dir = state_dir or default_state_dir()
    request = RunRequest(
        kind=kind,
        environment=environment or choose_environment(config, state_dir, _progress),
        config=config,
        state_dir=state_dir,
        reports_dir=reports_dir,
        workers=workers,
        extra_args=pytest_args,
    )
    sys.exit(execute(request, _progress))


@main.command()
@state_dir_option
def doctor(state_dir: Path | None) -> None:
    """Report what is present or missing (programs, Docker engine, permissions) and how to fix it.

    Exit status 0 when everything the gate needs is present, 1 otherwise.
    """
    from opsproof.doctor import diagnose

    findings = diagnose(state_dir or default_state_dir())
    for finding in findings:
        mark = "ok " if finding.ok else ("-- " if finding.optional else "!! ")
        click.echo(f"{mark}{finding.name:<30} {finding.detail}")
        if not finding.ok and finding.fix:
            click.echo(f"   {'':<30} fix: {finding.fix}")
    sys.exit(0 if all(f.ok or f.optional for f in findings) else 1)


main.add_command(report)
main.add_command(revert)
main.add_command(config)
main.add_command(init)
main.add_command(testhost)

if __name__ == "__main__":
    main()
