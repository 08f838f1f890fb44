"""The experiment runner: steady state → inject → expected degradation → revert → recovery.

Verdicts are never a silent pass: *inconclusive* when the steady state did not hold before
(nothing is injected then) or when the fault had no observable effect; *failed* when the
service did not degrade as promised, did not recover in time, or a revert failed.
"""

import statistics
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from opsproof.config.models import (
    ChaosExperiment,
    Environment,
    Expectation,
    HttpService,
    RecoveryTarget,
    SmokeStep,
)
from opsproof.evidence.verdict import ExperimentVerdict
from opsproof.faults.base import Fault
from opsproof.faults.catalogue import build_fault
from opsproof.faults.ledger import Ledger
from opsproof.faults.recovery import Recovery, measure_recovery
from opsproof.faults.safety import authorize
from opsproof.faults.signals import sigterm_interrupts
from opsproof.faults.steady import SteadyState, steady_state
from opsproof.faults.transaction import RevertFailed, injected
from opsproof.monitoring.detection import AlertWatch, Detection
from opsproof.probes.http import http_client, run_smoke_step
from opsproof.probes.result import Figure, Observation


@dataclass(frozen=True)
class ChaosRun:
    """What every experiment of a run shares."""

    environment_name: str
    environment: Environment
    state_dir: Path
    ledger: Ledger


@dataclass
class Result:
    name: str
    verdict: ExperimentVerdict
    reason: str
    fault: str
    target: str
    hypothesis: str
    recovery_target_s: float
    injected_at: datetime | None = None
    time_to_impact_s: float | None = None
    recovery_s: float | None = None
    figures: dict[str, Figure] = field(default_factory=dict)


@dataclass
class _Watch:
    """One expectation being polled during the fault."""

    expectation: Expectation
    step: SmokeStep
    impact_s: float | None = None
    problem: str | None = None
    done: bool = False
    latencies_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """An authorised experiment, described but not prepared: what ``--dry-run`` prints."""

    fault_id: str
    fault: Fault
    recovery: RecoveryTarget
    hypothesis: str

    def describe(self) -> str:
        return (
            f"fault: {self.fault.description}\n  undo: {self.fault.undo}\n"
            f"  hypothesis: {self.hypothesis}"
        )


def plan(run: ChaosRun, experiment: ChaosExperiment) -> Plan:
    """Authorise the experiment and describe it; raises SafetyError when it is not allowed."""
    authorize(run.environment_name, run.environment, experiment, run.state_dir)
    assert run.environment.chaos_plan is not None
    fault_id = uuid.uuid4().hex[:12]
    fault = build_fault(
        experiment.fault, run.environment, run.state_dir, fault_id, experiment.deadline
    )
    target = experiment.recovery or run.environment.chaos_plan.recovery
    during = "; ".join(_describe(e) for e in experiment.expect) or "no degradation declared"
    hypothesis = (
        f"steady state holds; during the fault: {during}; after the revert the steady state "
        f"returns within {target.within:g} s ({target.consecutive} passes in a row)"
    )
    if experiment.alerts:
        hypothesis += "; alerts: " + ", ".join(
            f"{a.name} delivered within {a.within:g} s, resolved within {a.resolved_within:g} s "
            "of the revert"
            for a in experiment.alerts
        )
    return Plan(fault_id, fault, target, hypothesis)


def run_experiment(run: ChaosRun, experiment: ChaosExperiment) -> Result:
    planned = plan(run, experiment)
    assert run.environment.chaos_plan is not None
    fault = planned.fault
    result = Result(
        experiment.name, "inconclusive", "", fault.description, fault.target,
        planned.hypothesis, planned.recovery.within,
    )  # fmt: skip
    with ExitStack() as stack:
        steady = steady_state(run.environment, run.environment.chaos_plan.steady_state, stack)
        before = steady.check()
        result.figures["steady_state_before"] = Figure(before.ok, target="== True")
        if not before.ok:
            result.verdict = "not_injected"
            result.reason = (
                f"steady state did not hold before injection; nothing injected: {before.reason}"
            )
            return result
        with sigterm_interrupts():
            try:
                _inject_and_recover(run, experiment, planned, steady, stack, result)
            except RevertFailed as exc:
                result.verdict, result.reason = "failed", f"revert failed: {exc}"
    return result


def _inject_and_recover(
    run: ChaosRun,
    experiment: ChaosExperiment,
    planned: Plan,
    steady: SteadyState,
    stack: ExitStack,
    result: Result,
) -> None:
    fault, target = planned.fault, planned.recovery
    watches = [_watch(e, i) for i, e in enumerate(experiment.expect)]
    clients = {
        name: stack.enter_context(http_client(svc))
        for name, svc in run.environment.services_of(HttpService).items()
    }
    alerts = AlertWatch(run.environment, experiment.alerts) if experiment.alerts else None
    refusal = alerts.prepare(stack) if alerts else None
    if refusal is not None:
        result.verdict, result.reason = refusal.verdict, refusal.reason
        return
    with injected(
        fault, run.ledger, planned.fault_id, experiment.name, experiment.deadline
    ) as active:
        result.injected_at = datetime.now(UTC)
        if alerts:
            alerts.start(active.injected_at, result.injected_at)
        effects = [fault.effect()]
        _observe(
            run.environment,
            watches,
            clients,
            active.injected_at,
            experiment.duration,
            target.interval,
        )
        if alerts:
            alerts.wait_detected()  # the fault stays until its alerts arrive or are overdue
        effects.append(fault.effect())
    if alerts:
        alerts.reverted(active.revert_started)
    recovery = measure_recovery(
        steady.check, active.revert_started,
        within=target.within, consecutive=target.consecutive, interval=target.interval,
    )  # fmt: skip
    _judge(result, watches, effects, recovery, target)
    if alerts:
        alerts.wait_resolved()
        _judge_alerts(result, alerts.detection())


def _watch(expectation: Expectation, index: int) -> _Watch:
    step = SmokeStep(
        name=f"expectation {index + 1}",
        service=expectation.service,
        request=expectation.request,
        expect=expectation.expect,
    )
    return _Watch(expectation, step)


def _observe(
    environment: Environment,
    watches: list[_Watch],
    clients: dict[str, httpx.Client],
    since: float,
    duration: float,
    interval: float,
) -> None:
    """Poll every expectation, each in its own thread so that one slow answer does not delay
    the timing of another, until each has shown (and held) or missed its window, and at least
    ``duration`` has passed."""
    stop = threading.Event()

    def poll(watch: _Watch) -> None:
        service = environment.services[watch.step.service]
        assert isinstance(service, HttpService)
        while not watch.done and not stop.is_set():
            began = time.monotonic()
            observation = run_smoke_step(service, watch.step, clients[watch.step.service])
            _update(watch, observation, since, time.monotonic())
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


def _update(watch: _Watch, observation: Observation, since: float, now: float) -> None:
    expectation, elapsed = watch.expectation, now - since
    latency = observation.figures.get("latency_ms")
    if latency is not None and isinstance(latency.value, float | int):
        watch.latencies_ms.append(float(latency.value))
    if observation.ok and watch.impact_s is None:
        watch.impact_s = round(elapsed, 4)
        if elapsed > expectation.within:
            watch.problem = f"{_describe(expectation)}: showed only after {elapsed:.2f} s"
            watch.done = True
    elif not observation.ok and watch.impact_s is not None:
        held = elapsed - watch.impact_s
        watch.problem = (
            f"{_describe(expectation)}: stopped holding after {held:.2f} s: {observation.reason}"
        )
        watch.done = True
    elif not observation.ok and elapsed > expectation.within:
        watch.problem = (
            f"{_describe(expectation)}: not seen within {expectation.within:g} s; "
            f"last: {observation.reason}"
        )
        watch.done = True
    if watch.impact_s is not None and elapsed - watch.impact_s >= expectation.hold:
        watch.done = True


def _judge(
    result: Result,
    watches: list[_Watch],
    effects: list[Observation],
    recovery: Recovery,
    target: RecoveryTarget,
) -> None:
    effect = next((e for e in effects if e.ok), effects[-1])
    result.figures.update({f"fault.{k}": v for k, v in effect.figures.items()})
    impacts = [w.impact_s for w in watches if w.impact_s is not None]
    result.time_to_impact_s = max(impacts) if impacts and len(impacts) == len(watches) else None
    result.recovery_s = recovery.recovered_s
    result.figures.update(
        {
            "time_to_impact_s": Figure(result.time_to_impact_s, "s"),
            "recovery_first_success_s": Figure(recovery.first_success_s, "s"),
            "recovery_s": Figure(recovery.recovered_s, "s", f"<= {target.within:g}"),
            "recovery_stable_s": Figure(recovery.stable_s, "s"),
        }
    )
    for index, watch in enumerate(watches, 1):
        if len(watch.latencies_ms) >= 2:
            p95 = statistics.quantiles(watch.latencies_ms, n=20, method="inclusive")[-1]
            result.figures[f"expect{index}.latency_p95_ms"] = Figure(round(p95, 1), "ms")
    if not effect.ok:
        result.verdict = "inconclusive"
        result.reason = f"the fault had no observable effect: {effect.reason}"
        return
    problems = [w.problem for w in watches if w.problem]
    if recovery.recovered_s is None:
        problems.append(
            f"not recovered within {target.within:g} s of the revert "
            f"({target.consecutive} passes in a row needed): {recovery.last.reason}"
        )
    result.verdict = "failed" if problems else "passed"
    result.reason = "; ".join(problems) or (
        f"{effect.reason}; degraded as expected; recovered {recovery.recovered_s:.2f} s after "
        "the revert"
    )


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


def _describe(expectation: Expectation) -> str:
    request, expect = expectation.request, expectation.expect
    words = [f"{request.method} {request.path} on {expectation.service} answers {expect.status}"]
    if expect.json_fields:
        words.append("with " + ", ".join(f"{k}={v}" for k, v in expect.json_fields.items()))
    if expect.max_latency is not None:
        words.append(f"in <= {expect.max_latency * 1000:g} ms")
    held = f", held {expectation.hold:g} s" if expectation.hold else ""
    words.append(f"(seen <= {expectation.within:g} s after injection{held})")
    return " ".join(words)
