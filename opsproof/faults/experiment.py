"""The experiment runner: steady state → (background load) → inject → expected degradation →
revert → recovery (→ the load's phases).

One steady-state poller runs from before the injection until recovery is decided, so impact,
outage and recovery are observed on one clock. Verdicts are never a silent pass (see
``judgement``): *not_injected* when the steady state did not hold before, or the background
load did not start (nothing is injected then); *inconclusive* when the fault had no observable
effect, or a load limit had nothing to be judged on; *failed* when the service did not degrade
as promised, had an outage its expectations do not allow, did not recover in time, its users
under load fared worse than a limit allows, or a revert failed.
"""

import re
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from opsproof.config.models import ChaosExperimentSpec, Environment, HttpService, RecoveryTargetSpec
from opsproof.errors import RevertFailed
from opsproof.faults import dependants
from opsproof.faults.background import BackgroundLoad
from opsproof.faults.base import Fault, Supervised, observed_effect
from opsproof.faults.catalogue import build_fault
from opsproof.faults.judgement import Observed, judge, outage_allowance
from opsproof.faults.ledger import Ledger
from opsproof.faults.outage import STOP_TIMEOUT, SteadyPoller
from opsproof.faults.phases import Bounds, judge_load
from opsproof.faults.recovery import Sample, recovery_from
from opsproof.faults.result import Result
from opsproof.faults.safety import authorize
from opsproof.faults.signals import interrupts
from opsproof.faults.steady import SteadyState, steady_state
from opsproof.faults.supervisor import RestartCount, restart_count
from opsproof.faults.transaction import injected
from opsproof.faults.watch import Watch, describe, update, watch
from opsproof.journeys.flow import FlowContext, run_flow
from opsproof.load.health import saturated
from opsproof.monitoring.detection import AlertWatch, Detection
from opsproof.probes.http import http_client
from opsproof.probes.result import Figure

__all__ = ["ChaosRun", "Plan", "Result", "plan", "run_experiment"]


@dataclass(frozen=True)
class ChaosRun:
    """What every experiment of a run shares."""

    environment_name: str
    environment: Environment
    state_dir: Path
    ledger: Ledger
    base_dir: Path = Path()
    """The config file's directory: flows' uploads and load profiles are relative to it."""
    run_dir: Path | None = None
    """Where the run's files go (flows' saved bodies, the background load's logs)."""
    secrets: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    """An authorised experiment, described but not prepared: what ``--dry-run`` prints."""

    fault_id: str
    fault: Fault
    recovery: RecoveryTargetSpec
    hypothesis: str
    load: BackgroundLoad | None = None

    def describe(self) -> str:
        load = f"\n  {self.load.describe()}" if self.load else ""
        return (
            f"fault: {self.fault.description}\n  undo: {self.fault.undo}\n"
            f"  hypothesis: {self.hypothesis}{load}"
        )


def plan(run: ChaosRun, experiment: ChaosExperimentSpec) -> Plan:
    """Authorise the experiment and describe it; raises SafetyError when it is not allowed."""
    authorize(run.environment_name, run.environment, experiment, run.state_dir, run.base_dir)
    assert run.environment.chaos_plan is not None
    fault_id = uuid.uuid4().hex[:12]
    fault = build_fault(
        experiment.fault, run.environment, run.state_dir, fault_id, experiment.deadline
    )
    target = experiment.recovery or run.environment.chaos_plan.recovery
    flows = run.environment.flows
    watches = [watch(e, i, flows) for i, e in enumerate(experiment.expect)]
    during = "; ".join(describe(w.expectation, w.flow) for w in watches)
    during = during or "no degradation declared"
    allowed, why = outage_allowance(experiment, flows)
    outage = f"an outage is allowed ({why})" if allowed else f"no outage ({why})"
    hypothesis = (
        f"steady state holds; during the fault: {during}; {outage}; after the revert the "
        f"steady state returns within {target.within:g} s ({target.consecutive} passes in a row)"
    )
    if experiment.alerts:
        hypothesis += "; alerts: " + ", ".join(
            f"{a.name} delivered within {a.within:g} s, resolved within {a.resolved_within:g} s "
            "of the revert"
            for a in experiment.alerts
        )
    hypothesis += dependants.hypothesis(experiment)
    load = None
    if experiment.load is not None:
        load = BackgroundLoad.of(experiment.load, run.environment, run.base_dir)
        hypothesis += "; users under load: " + (
            ", ".join(
                f"{phase} {key} {limit}"
                for phase, limits in experiment.load.expect.items()
                for key, limit in limits
                if limit is not None
            )
            or "measured per phase, no limits declared"
        )
    return Plan(fault_id, fault, target, hypothesis, load)


def run_experiment(run: ChaosRun, experiment: ChaosExperimentSpec) -> Result:
    planned = plan(run, experiment)
    assert run.environment.chaos_plan is not None
    fault = planned.fault
    result = Result(
        experiment.name, "inconclusive", "", fault.description, fault.target,
        planned.hypothesis, planned.recovery.within, planned.recovery.interval,
        outage_allowance(experiment, run.environment.flows)[0],
    )  # fmt: skip
    origin, result.started_at = time.monotonic(), datetime.now(UTC)
    with ExitStack() as stack:
        names = run.environment.chaos_plan.steady_state
        steady = steady_state(run.environment, names, stack, run.state_dir)
        before = steady.check()
        result.figures["steady_state_before"] = Figure(before.ok, target="== True")
        if not before.ok:
            result.verdict = "not_injected"
            result.reason = (
                f"steady state did not hold before injection; nothing injected: {before.reason}"
            )
            return result
        with interrupts():  # the load's processes are stopped on Ctrl-C and SIGTERM too
            if planned.load is not None and not _load_running(run, experiment, planned.load, stack):
                result.verdict = "not_injected"
                result.reason = f"{planned.load.failure}; nothing injected"
                return result
            try:
                _inject_and_recover(run, experiment, planned, steady, stack, result, origin)
            except RevertFailed as exc:
                result.verdict, result.reason = "failed", f"revert failed: {exc}"
    return result


def _load_running(
    run: ChaosRun, experiment: ChaosExperimentSpec, load: BackgroundLoad, stack: ExitStack
) -> bool:
    """Start the background load and let its baseline run; False (``load.failure`` says why)
    when it did not start."""
    out_dir = None if run.run_dir is None else run.run_dir / "load" / _slug(experiment.name)
    load.start(stack, out_dir)
    why = load.wait_running()
    if why is not None:
        load.failure = why
        return False
    load.wait_baseline()
    return True


def _inject_and_recover(
    run: ChaosRun,
    experiment: ChaosExperimentSpec,
    planned: Plan,
    steady: SteadyState,
    stack: ExitStack,
    result: Result,
    origin: float,
) -> None:
    fault, target = planned.fault, planned.recovery
    watches = [watch(e, i, run.environment.flows) for i, e in enumerate(experiment.expect)]
    clients = {
        name: stack.enter_context(http_client(svc))
        for name, svc in run.environment.services_of(HttpService).items()
    }
    alerts = AlertWatch(run.environment, experiment.alerts) if experiment.alerts else None
    refusal = alerts.prepare(stack) if alerts else None
    if refusal is not None:
        result.verdict, result.reason = refusal.verdict, refusal.reason
        return
    restarts = restart_count(run.environment, experiment.fault.service)
    restarts_before = restarts() if restarts else None
    assert result.started_at is not None
    # each probe polled from before the injection until recovery is decided: the outage is
    # observed, and a probe hung on a frozen dependency does not blind the others
    with SteadyPoller(steady.probes or [steady.check], target.interval) as poller:
        with injected(
            fault, run.ledger, planned.fault_id, experiment.name, experiment.deadline
        ) as active:
            injected_until = time.monotonic()
            result.injected_at = result.started_at + timedelta(seconds=active.injected_at - origin)
            if alerts:
                alerts.start(active.injected_at, result.injected_at)
            effects = [observed_effect(fault)]
            since, duration = active.injected_at, experiment.duration
            _observe(run, watches, clients, since, duration, target.interval)
            if alerts:
                alerts.wait_detected()  # the fault stays until its alerts arrive or are overdue
            effects.append(observed_effect(fault))
            # the supervisor's own way back (systemd's Restart=) is awaited before the revert
            supervision = fault.supervision() if isinstance(fault, Supervised) else None
            restarted = _restarted(restarts, restarts_before)
        if alerts:
            alerts.reverted(active.revert_started)
        restarted_after = dependants.recover_dependants(
            run.environment, run.state_dir, run.ledger, experiment, target, active.revert_started
        )

        def decided(samples: list[Sample]) -> bool:
            since = active.revert_started
            within, consecutive = target.within, target.consecutive
            recovery = recovery_from(
                samples, since, within=within, consecutive=consecutive, probes=poller.probes
            )
            return recovery is not None

        poller.wait_until(decided, active.revert_started + target.within + STOP_TIMEOUT)
    seen = Observed(
        origin, result.started_at, active.injected_at, injected_until, active.revert_started,
        poller.samples(), poller.probes, watches, effects, restarted, supervision,
    )  # fmt: skip
    judge(result, experiment, seen, target)
    restarted_after.report(result)
    if planned.load is not None:
        _judge_background(result, planned.load, target)
    if alerts:
        alerts.wait_resolved()
        _judge_alerts(result, alerts.detection())


def _restarted(count: RestartCount | None, before: int | None) -> bool | None:
    after = count() if count else None
    return None if before is None or after is None else after > before


def _observe(
    run: ChaosRun,
    watches: list[Watch],
    clients: dict[str, httpx.Client],
    since: float,
    duration: float,
    interval: float,
) -> None:
    """Poll every expectation, each in its own thread so that one slow answer does not delay
    the timing of another, until each has shown (and held) or missed its window, and at least
    ``duration`` has passed."""
    stop = threading.Event()
    services = run.environment.services_of(HttpService)
    context = FlowContext(run.base_dir, run.run_dir, run.secrets)

    def poll(watched: Watch) -> None:
        while not watched.done and not stop.is_set():
            began = time.monotonic()
            observation = run_flow(watched.flow, services, context, clients)
            update(watched, observation, time.monotonic() - since)
            stop.wait(max(0.0, began + interval - time.monotonic()))

    threads = [threading.Thread(target=poll, args=(w,), daemon=True) for w in watches]
    for thread in threads:
        thread.start()
    try:
        # short joins keep the main thread responsive to Ctrl-C and SIGTERM
        while any(t.is_alive() for t in threads) or time.monotonic() - since < duration:
            for thread in threads:
                thread.join(interval)
            if not threads:
                time.sleep(max(0.0, min(interval, since + duration - time.monotonic())))
    finally:
        stop.set()


def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "-", name).strip("-") or "experiment"


def _judge_background(result: Result, load: BackgroundLoad, target: RecoveryTargetSpec) -> None:
    """Let the load run ``after`` past recovery, stop it, and judge each phase: a limit not
    met fails the experiment; nothing to judge a limit on leaves a pass inconclusive."""
    assert result.injected_at is not None and result.reverted_at is not None
    reverted = result.reverted_at.timestamp()
    recovery = result.recovery_s
    recovered = None if recovery is None or recovery > target.within else reverted + recovery
    load.wait_after(time.time() if recovered is None else recovered)
    loaded = load.stop()
    trouble = ([load.failure] if load.failure else []) + (
        loaded.errors + saturated(loaded) if loaded else []
    )
    bounds = Bounds(result.injected_at.timestamp(), reverted, recovered)
    judged = judge_load(load.spec, loaded, bounds, trouble)
    result.figures.update(judged.figures)
    if result.verdict not in ("passed", "failed"):
        return
    earlier = [result.reason] if result.verdict == "failed" else []
    if judged.problems:
        result.verdict = "failed"
        result.reason = "; ".join([*earlier, *judged.problems, *judged.missing])
    elif judged.missing and result.verdict == "passed":
        result.verdict = "inconclusive"
        result.reason = "; ".join(judged.missing) + f" (otherwise: {result.reason})"
    elif judged.missing:
        result.reason = "; ".join([*earlier, *judged.missing])
    elif judged.met and result.verdict == "passed":
        result.reason += "; users under load: " + ", ".join(judged.met)


def _judge_alerts(result: Result, detection: Detection) -> None:
    """Detection figures beside impact and recovery; an alert not delivered or not resolved in
    time fails the experiment."""
    result.figures.update(detection.figures)
    if result.verdict == "inconclusive":
        return
    if detection.problems:
        earlier = [result.reason] if result.verdict == "failed" else []
        result.verdict, result.reason = "failed", "; ".join([*earlier, *detection.problems])
    else:
        result.reason += f"; {detection.summary}"
