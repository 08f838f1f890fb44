"""Run a profile: one Locust master and its workers per scenario, all as subprocesses (gevent
never patches the calling process), bounded in time, with live progress; then read and merge
what each master wrote.

Workers on other machines join a master with
``locust --worker --master-host HOST --master-port PORT -f -`` (the locustfiles come from the
master); set ``expect_workers`` to the total and ``master_bind`` to an address they reach.
"""

import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from opsproof.config.problems import config_error
from opsproof.errors import ConfigError
from opsproof.load.plan import PLAN_ENV, SCRIPT_USER, AbortRule, LoadPlan
from opsproof.load.profile import Profile
from opsproof.load.progress import Progress
from opsproof.load.result import (
    PROGRESS_PREFIX,
    RESULT_PREFIX,
    STOP_PREFIX,
    TIMELINE_PREFIX,
    LoadResult,
    ScenarioResult,
    merge_results,
    read_timeline,
)
from opsproof.load.schedules import max_vus, span
from opsproof.load.script import ScriptSources, compile_script, script_problems
from opsproof.load.target import LoadTarget
from opsproof.support.ports import LOOPBACK, free_ports

ENTRY = Path(__file__).with_name("locust") / "entry.py"
POLL_S = 0.2
STOP_GRACE_S = 5.0
DEFAULT_MAX_REQUESTS = 1_000_000
MASTER_SLACK_S = 15.0
"""Beyond the schedule and gracefulStop: time for workers to report before the master gives up."""


@dataclass(frozen=True)
class RunSettings:
    locustfile: Path
    out_dir: Path
    """Where progress, results and Locust's logs go (the run directory)."""
    workers: int = 2
    """Worker processes started here, per scenario."""
    expect_workers: int | None = None
    """All workers per scenario, remote ones included (default: ``workers``)."""
    master_bind: str = "127.0.0.1"
    master_port: int | None = None
    """Scenario k's master listens on this port + k; default: a free port."""
    max_requests: int = DEFAULT_MAX_REQUESTS
    startup_timeout: float = 60.0
    progress: Callable[[Progress], None] | None = field(default=None, compare=False)
    stop: threading.Event | None = field(default=None, compare=False)
    """Set it to end the run early (its result is written as usual, ``aborted`` says so)."""


@dataclass
class _Scenario:
    plan: LoadPlan
    master: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]]
    progress_shown: float | None = None
    """``t`` of the last progress line forwarded."""


def run_profile(
    profile: Profile,
    target: LoadTarget,
    settings: RunSettings,
    sources: ScriptSources | None = None,
) -> LoadResult:
    """Run every scenario of ``profile`` at once against ``target``; config-only scenarios
    take their flows and other services from ``sources``. Never raises for a failure of the
    run itself (that is in ``LoadResult.errors``); a scenario naming what ``sources`` lacks,
    or an unreadable upload, is a ConfigError before any traffic."""
    if settings.workers < 0 or (settings.expect_workers or settings.workers) < 1:
        raise ConfigError("a load run needs at least one worker (--load-workers)")
    sources = sources or ScriptSources()
    problems = list(script_problems(profile.written, sources, profile.parsed))
    if problems:
        raise config_error(profile.parsed.source if profile.parsed else profile.name, problems)
    plans = _plans(profile, target, settings, sources)
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="opsproof-load-") as private:
        running: list[_Scenario] = []
        try:
            for index, (name, plan) in enumerate(plans.items()):
                running.append(_launch(plan, index, Path(private) / f"plan-{name}.json", settings))
            errors = _wait(running, settings, _deadline(profile, settings))
        finally:
            for scenario in running:
                for process in (scenario.master, *scenario.workers):
                    _stop(process)
    results = []
    for scenario in running:
        result = _read(scenario, settings.out_dir)
        if isinstance(result, str):
            errors.append(result)
        else:
            results.append(result)
    return merge_results(results, errors)


def _plans(
    profile: Profile, target: LoadTarget, settings: RunSettings, sources: ScriptSources
) -> dict[str, LoadPlan]:
    workers = settings.expect_workers or settings.workers
    abort_rules = [
        AbortRule(
            id=t.id,
            selector=str(t.selector),
            expression=str(t.expression),
            delay=t.delay_abort_eval,
        )
        for t in profile.thresholds
        if t.abort_on_fail
    ]
    submetrics = sorted({str(t.selector) for t in profile.thresholds if t.selector.tags})
    scenarios = profile.scenarios
    return {
        name: LoadPlan(
            scenario_name=name,
            written=profile.written[name],
            time_scale=profile.time_scale,
            user_class=SCRIPT_USER if scenario.scripted else scenario.exec_,
            script=compile_script(scenario, target, sources, profile.base_dir)
            if scenario.scripted
            else None,
            workers=workers,
            target=target,
            max_requests=settings.max_requests,
            submetrics=submetrics,
            abort_rules=abort_rules,
            out_dir=str(settings.out_dir),
            run_timeout=scenario.start_time
            + span(scenario)
            + scenario.graceful_stop
            + MASTER_SLACK_S,
        )
        for name, scenario in scenarios.items()
    }


def _deadline(profile: Profile, settings: RunSettings) -> float:
    """The run's hard bound: startup, the longest scenario, its grace, and the master's slack."""
    longest = max(s.start_time + span(s) + s.graceful_stop for s in profile.scenarios.values())
    return time.monotonic() + settings.startup_timeout + longest + 2 * MASTER_SLACK_S


def _launch(plan: LoadPlan, index: int, plan_file: Path, settings: RunSettings) -> _Scenario:
    fd = os.open(plan_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # holds headers
    with os.fdopen(fd, "w") as out:
        out.write(plan.model_dump_json(by_alias=True))
    port = (
        _free_port(settings.master_bind)
        if settings.master_port is None
        else settings.master_port + index
    )
    slots = math.ceil(max_vus(plan.scenario) / plan.workers) * plan.workers
    files = f"{ENTRY},{settings.locustfile}"
    common = [sys.executable, "-m", "locust", "-f", files, "--loglevel", "WARNING"]
    master = [
        *common,
        "--master", "--headless", "--only-summary",
        "--master-bind-host", settings.master_bind, "--master-bind-port", str(port),
        "--expect-workers", str(plan.workers),
        "--expect-workers-max-wait", str(int(settings.startup_timeout)),
        "-u", str(slots), "-r", str(slots),
        "-t", f"{int(plan.run_timeout + settings.startup_timeout + MASTER_SLACK_S)}s",
        "--exit-code-on-error", "0", "--host", plan.target.host,
    ]  # fmt: skip
    environ = {**os.environ, PLAN_ENV: str(plan_file)}
    name = plan.scenario_name
    started = _spawn(master, environ, settings.out_dir / f"locust-{name}-master.log")
    connect = "127.0.0.1" if settings.master_bind in ("0.0.0.0", "::") else settings.master_bind
    worker = [*common, "--worker", "--master-host", connect, "--master-port", str(port)]
    workers = [
        _spawn(worker, dict(os.environ), settings.out_dir / f"locust-{name}-worker-{n}.log")
        for n in range(settings.workers)
    ]
    return _Scenario(plan, started, workers)


def _spawn(command: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=environ, start_new_session=True,
        )  # fmt: skip


def _free_port(host: str) -> int:
    """A port for the master; on loopback (the default) one no other choice can take."""
    if host == LOOPBACK:
        return free_ports(1)[0]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _wait(running: list[_Scenario], settings: RunSettings, deadline: float) -> list[str]:
    """Poll until every master exits or the deadline passes, forwarding progress lines."""
    stopping = False
    while any(s.master.poll() is None for s in running):
        for scenario in running:
            _forward(scenario, settings)
        if settings.stop is not None and settings.stop.is_set() and not stopping:
            stopping = True
            for scenario in running:
                (settings.out_dir / f"{STOP_PREFIX}{scenario.plan.scenario_name}").touch()
            deadline = min(deadline, time.monotonic() + MASTER_SLACK_S)
        if time.monotonic() > deadline:
            return ["the load run exceeded its time bound and was stopped"]
        time.sleep(POLL_S)
    for scenario in running:
        _forward(scenario, settings)
    return []


def _forward(scenario: _Scenario, settings: RunSettings) -> None:
    """The master replaces its one-line progress file each second (a file of every second
    would grow with the run); polled five times as often, no line is missed."""
    path = settings.out_dir / f"{PROGRESS_PREFIX}{scenario.plan.scenario_name}.json"
    if settings.progress is None or not path.exists():
        return
    line = Progress.model_validate_json(path.read_bytes())
    if line.t != scenario.progress_shown:
        scenario.progress_shown = line.t
        settings.progress(line)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ask the process group to stop, then make it; it never outlives the run."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, STOP_GRACE_S)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _read(scenario: _Scenario, out_dir: Path) -> ScenarioResult | str:
    name = scenario.plan.scenario_name
    path = out_dir / f"{RESULT_PREFIX}{name}.json"
    if not path.exists():
        log = out_dir / f"locust-{name}-master.log"
        tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
        return f"scenario {name}: the Locust master wrote no result ({' | '.join(tail)})"
    result = ScenarioResult.model_validate_json(path.read_text())
    timeline = read_timeline(out_dir / f"{TIMELINE_PREFIX}{name}.jsonl")
    return result.model_copy(update={"timeline": timeline})
