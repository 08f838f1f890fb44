"""An experiment's verdict, timeline and figures from what was observed: the expectations'
watches, the fault's proof of effect, and the steady-state poller's outage and recovery.

Every figure is an observation; one that was not observed is absent (a time to impact), never
filled in from the fault's own timing.
"""

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from opsproof.config.flows import FlowSpec
from opsproof.config.models import ChaosExperimentSpec, MemoryFaultSpec, RecoveryTargetSpec
from opsproof.config.values import status_text
from opsproof.faults.outage import Outage, first_outage, steady_states
from opsproof.faults.recovery import Recovery, Sample, recovery_from
from opsproof.faults.result import RestoredBy, Result
from opsproof.faults.watch import Watch, error_step, expected_flow
from opsproof.probes.result import Figure, Observation

_ENDED_BY = {
    "revert": "opsproof's revert",
    "supervisor": "the supervisor (it restarted the service before the revert)",
    "service": "the service itself, before the revert",
}
TAKES_DOWN = frozenset({"kill", "stop", "restart", "pause"})
"""Process and container actions that take the service down the moment they are injected."""


def acts_at_once(experiment: ChaosExperimentSpec) -> bool:
    return experiment.fault.action in TAKES_DOWN


def outage_allowance(
    experiment: ChaosExperimentSpec, flows: Sequence[FlowSpec] = ()
) -> tuple[bool, str]:
    """Whether the experiment's expectations allow an outage of the steady state, and why.

    Allowed when an expectation describes an error answer (the promised degradation), or when
    the fault takes its service down by design (a kill, an OOM kill of the service) and no
    expectation promises that very service keeps answering. Otherwise the service is expected
    to ride the fault out and any outage fails the experiment. ``flows`` are the
    environment's, which an expectation may name."""
    expected = [expected_flow(e, i, flows) for i, e in enumerate(experiment.expect)]
    for flow in expected:
        if (step := error_step(flow)) is not None:
            request, service = step.request, step.service or flow.service
            answer = (
                f"{status_text(step.expect.status)} to {request.method} {request.path} on {service}"
            )
            return True, f"an expectation describes an error answer: {answer}"
    fault = experiment.fault
    down = acts_at_once(experiment) or (
        isinstance(fault, MemoryFaultSpec) and fault.victim == "service"
    )
    promised = {step.service or flow.service for flow in expected for step in flow.steps}
    if down and fault.service not in promised:
        return True, f"the fault takes {fault.service} down"
    if down:
        return False, f"an expectation says {fault.service} keeps answering"
    return False, "no expectation describes an error answer"


@dataclass(frozen=True)
class Observed:
    """Everything seen from the injection on; instants are monotonic."""

    origin: float
    """The monotonic instant of ``started_at``: the experiment's first steady-state check."""
    started_at: datetime
    injected: float
    """When the injection began."""
    injected_until: float
    """When the injection returned (the fault confirmed in place)."""
    reverted: float
    samples: list[Sample]
    """Every steady-state probe's answers."""
    probes: int
    watches: list[Watch]
    effects: list[Observation]
    restarted: bool | None
    """Whether a supervisor restarted the hit service during the fault; None: none, unknown."""
    supervision: Observation | None = None
    """Whether the supervisor that owns the way back (systemd after a kill) brought the
    service back by itself before the revert; None when no supervisor has that part."""


def judge(
    result: Result, experiment: ChaosExperimentSpec, seen: Observed, target: RecoveryTargetSpec
) -> None:
    """Fill ``result``'s timeline, figures, verdict and reason."""
    recovery = recovery_from(
        seen.samples, seen.reverted,
        within=target.within, consecutive=target.consecutive, probes=seen.probes, final=True,
    )  # fmt: skip
    assert recovery is not None  # final: decided either way
    states = steady_states(seen.samples, seen.probes)
    outage = first_outage(
        states, seen.injected, at_once=acts_at_once(experiment), injected_until=seen.injected_until
    )
    _timeline(result, seen, outage, recovery)
    # the latest proof: its counters (OOM kills, the supervisor's restarts) are the fullest
    effect = next((e for e in reversed(seen.effects) if e.ok), seen.effects[-1])
    result.figures.update({f"fault.{k}": v for k, v in effect.figures.items()})
    _figures(result, seen, recovery, target)
    if outage is not None and acts_at_once(experiment):
        result.figures["outage_start_window_s"] = Figure(round(outage.window, 4), "s")
    if not effect.ok:
        result.verdict = "inconclusive"
        result.reason = f"the fault had no observable effect: {effect.reason}"
        return
    problems = [w.problem for w in seen.watches if w.problem]
    if seen.supervision is not None:
        result.figures.update({f"supervisor.{k}": v for k, v in seen.supervision.figures.items()})
        if not seen.supervision.ok:
            problems.append(seen.supervision.reason)
    if recovery.recovered_s is None or recovery.recovered_s > target.within:
        problems.append(
            f"not recovered within {target.within:g} s of the revert "
            f"({target.consecutive} passes in a row needed): {recovery.last.reason}"
        )
    if outage is not None and not result.outage_allowed:
        problems.append(_unallowed(experiment, outage, seen))
    result.verdict = "failed" if problems else "passed"
    result.reason = "; ".join(problems) or _passed(result, effect, recovery, seen.supervision)


def _timeline(result: Result, seen: Observed, outage: Outage | None, recovery: Recovery) -> None:
    def offset(instant: float) -> float:
        return round(instant - seen.origin, 4)

    def moment(instant: float) -> datetime:
        return seen.started_at + timedelta(seconds=instant - seen.origin)

    result.injected_at, result.injected_offset_s = moment(seen.injected), offset(seen.injected)
    result.reverted_at, result.reverted_offset_s = moment(seen.reverted), offset(seen.reverted)
    result.held_s = round(seen.reverted - seen.injected, 4)
    impacts = [w.seen_s for w in seen.watches if w.degraded and w.seen_s is not None]
    if outage is not None:
        impacts.append(outage.impact - seen.injected)
    result.time_to_impact_s = round(min(impacts), 4) if impacts else None
    result.recovery_s = recovery.recovered_s
    if outage is None:
        result.outage_s, result.outages = 0.0, 0
        return
    duration = outage.duration
    result.outage_s = None if duration is None else round(duration, 4)
    result.outage_offset_s, result.outages = offset(outage.started), outage.count
    result.restored_by = _restored_by(outage, seen)


def _restored_by(outage: Outage, seen: Observed) -> RestoredBy | None:
    if outage.ended is None:
        return None
    if outage.ended >= seen.reverted:
        return "revert"
    return "supervisor" if seen.restarted else "service"


def _figures(
    result: Result, seen: Observed, recovery: Recovery, target: RecoveryTargetSpec
) -> None:
    assert result.injected_at is not None and result.reverted_at is not None
    figures = {
        "injected_at": Figure(result.injected_at.isoformat()),
        "injected_offset_s": Figure(result.injected_offset_s, "s"),
        "reverted_at": Figure(result.reverted_at.isoformat()),
        "reverted_offset_s": Figure(result.reverted_offset_s, "s"),
        "held_s": Figure(result.held_s, "s"),
        "outage_s": Figure(result.outage_s, "s", None if result.outage_allowed else "== 0"),
        "outages": Figure(result.outages),
        "recovery_first_success_s": Figure(recovery.first_success_s, "s"),
        "recovery_s": Figure(recovery.recovered_s, "s", f"<= {target.within:g}"),
        "recovery_stable_s": Figure(recovery.stable_s, "s"),
        "poll_interval_s": Figure(result.poll_interval_s, "s"),
        "steady_state_slowest_s": Figure(_slowest(seen), "s"),
    }
    if result.time_to_impact_s is not None:
        figures["time_to_impact_s"] = Figure(result.time_to_impact_s, "s")
    if result.restored_by is not None:
        figures["restored_by"] = Figure(result.restored_by)
    result.figures.update(figures)
    for index, watch in enumerate(seen.watches, 1):
        if watch.seen_s is not None:
            seen_s = round(watch.seen_s, 4)
            result.figures[f"expect{index}.seen_s"] = Figure(
                seen_s, "s", f"<= {watch.expectation.within:g}"
            )
        if len(watch.latencies_ms) >= 2:
            p95 = statistics.quantiles(watch.latencies_ms, n=20, method="inclusive")[-1]
            result.figures[f"expect{index}.latency_p95_ms"] = Figure(round(p95, 1), "ms")


def _slowest(seen: Observed) -> float | None:
    """The longest steady-state check from the injection on: a freeze shorter than the probes'
    timeouts shows here (a slow pass), not as an outage."""
    took = [s.answered - s.started for s in seen.samples if s.answered >= seen.injected]
    return round(max(took), 4) if took else None


def _unallowed(experiment: ChaosExperimentSpec, outage: Outage, seen: Observed) -> str:
    _, why = outage_allowance(experiment, [w.flow for w in seen.watches])
    began = outage.started - seen.injected
    if outage.duration is None:
        measured = (
            f"an outage from {began:.2f} s after the injection that had not ended when "
            "observation stopped"
        )
    else:
        measured = f"an outage of {outage.duration:.2f} s (from {began:.2f} s after the injection)"
    return (
        f"{measured}, which the expectations do not allow ({why}); first failed check: "
        f"{outage.first_failure}"
    )


def _passed(
    result: Result, effect: Observation, recovery: Recovery, supervision: Observation | None
) -> str:
    if result.outage_s == 0:
        outage = "no outage: every steady-state check passed"
    elif result.outage_s is None:
        outage = "outage not seen to end"
    else:
        outage = (
            f"outage {result.outage_s:.2f} s, ended by {_ENDED_BY[result.restored_by or 'revert']}"
        )
    degraded = "degraded as expected" if result.outage_allowed else "rode it out"
    assert recovery.recovered_s is not None
    supervised = f"; {supervision.reason}" if supervision is not None else ""
    return (
        f"{effect.reason}; {degraded}; {outage}{supervised}; recovered "
        f"{recovery.recovered_s:.2f} s after the revert"
    )
