"""Impact, outage and recovery read from the steady-state poller's samples: only what was
observed is reported, and an outage the expectations do not allow fails the experiment, named.

Pure units over samples on a made-up monotonic clock; the end-to-end accuracy against a real
service is in ``test_outage_accuracy.py`` and ``bench/outage.py``."""

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from opsproof.config.models import ChaosExperimentSpec, RecoveryTargetSpec
from opsproof.faults.judgement import Observed, judge, outage_allowance
from opsproof.faults.outage import first_outage, steady_states
from opsproof.faults.recovery import Sample, recovery_from
from opsproof.faults.result import Result
from opsproof.faults.watch import update, watch
from opsproof.probes.result import Figure, Observation

INJECTED, REVERTED = 10.0, 12.0
TARGET = RecoveryTargetSpec(within=5, consecutive=2, interval=0.05)
EFFECT = Observation(True, "process://svc", "SIGKILL process://svc: no process left")


def polled(
    *spans: tuple[float, float, bool], step: float = 0.05, took: float = 0.01
) -> list[Sample]:
    """Samples every ``step`` s over each (from, to, ok) span."""
    samples = []
    for start, end, ok in spans:
        at = start
        while at < end - 1e-9:
            samples.append(Sample(at, at + took, Observation(ok, "steady state", f"ok={ok}")))
            at = round(at + step, 6)
    return samples


def experiment(
    fault: dict[str, Any], expect: list[dict[str, Any]] | None = None
) -> ChaosExperimentSpec:
    return ChaosExperimentSpec.model_validate({"name": "e", "fault": fault, "expect": expect or []})


KILL = {"action": "kill", "service": "svc"}
KEEPS_ANSWERING = {"service": "svc", "request": {"path": "/"}, "expect": {"status": 200}}


def test_every_check_passed_means_no_outage() -> None:
    assert first_outage(polled((9.9, 16, True)), INJECTED, at_once=True) is None


def test_a_fault_that_acts_at_once_starts_the_outage_while_it_was_injected() -> None:
    """In the middle of the window it is known to lie in: after the injection began, before
    the injection returned and the first failed check was asked."""
    samples = polled((9.9, 10.0, True), (10.03, 13.5, False), (13.5, 15, True))
    outage = first_outage(samples, INJECTED, at_once=True, injected_until=10.01)
    assert outage is not None and outage.started == pytest.approx(10.005) and outage.count == 1
    assert outage.window == pytest.approx(0.01)
    assert outage.ended == pytest.approx(13.51) and outage.impact == pytest.approx(10.03)
    asked_first = first_outage(samples, INJECTED, at_once=True, injected_until=10.2)
    assert asked_first is not None and asked_first.started == pytest.approx(10.015)
    not_at_once = first_outage(samples, INJECTED, at_once=False, injected_until=10.01)
    assert not_at_once is not None and not_at_once.started == pytest.approx(10.03)


def test_a_check_in_flight_at_the_injection_saw_the_fault_when_it_answered() -> None:
    in_flight = Sample(9.98, 10.02, Observation(False, "s", "connection reset"))
    outage = first_outage([in_flight, *polled((10.05, 11, True))], INJECTED, at_once=True)
    assert outage is not None and outage.impact == 10.02
    assert outage.started == pytest.approx(10.01)  # between the injection and that answer


def test_a_later_failure_starts_the_outage_when_it_was_asked_or_last_answered() -> None:
    samples = polled((9.9, 11.0, True), (11.0, 12.4, False), (12.4, 15, True))
    asked = first_outage(samples, INJECTED, at_once=False)
    assert asked is not None and asked.started == pytest.approx(11.0)
    assert asked.duration == pytest.approx(1.41)
    # a kill ridden out for 1 s: after the last pass arrived, before the first failure
    answered = first_outage(samples, INJECTED, at_once=True, injected_until=10.01)
    assert answered is not None and answered.started == pytest.approx(10.98)


def test_a_flapping_service_shows_each_outage_and_one_not_seen_to_end_has_no_duration() -> None:
    samples = polled((10, 10.5, False), (10.5, 11, True), (11, 11.2, False), (11.2, 11.5, True))
    assert first_outage(samples, INJECTED, at_once=True).count == 2  # type: ignore[union-attr]
    ongoing = first_outage(polled((10, 20, False)), INJECTED, at_once=True)
    assert ongoing is not None and ongoing.ended is None and ongoing.duration is None


def test_recovery_counts_a_check_that_thawed_but_not_one_that_failed_during_the_fault() -> None:
    hung_then_answered = Sample(11.5, REVERTED + 0.02, Observation(True, "s", "thawed"))
    timed_out = Sample(11.0, REVERTED + 0.01, Observation(False, "s", "timed out"))
    samples = [timed_out, hung_then_answered, *polled((12.05, 13, True))]
    recovery = recovery_from(samples, REVERTED, within=5, consecutive=2)
    assert recovery is not None and recovery.first_success_s == pytest.approx(0.02)
    assert recovery.recovered_s == pytest.approx(0.02) and recovery.checks == 2
    assert recovery_from(samples[:2], REVERTED, within=5, consecutive=2) is None  # undecided
    gave_up = recovery_from(samples[:2], REVERTED, within=5, consecutive=2, final=True)
    assert gave_up is not None and gave_up.recovered_s is None


def test_a_probe_hung_on_a_frozen_dependency_does_not_hide_another_probes_failure() -> None:
    """Redis paused for 1 s: its PING hangs until the thaw and then passes (within its
    timeout), while the API's deep health, polled on its own, answers 503 throughout."""
    deep = [
        replace(s, probe=0)
        for s in polled((9.9, 10.0, True), (10.0, 11.0, False), (11.0, 12, True))
    ]
    ping = [Sample(9.95, 11.02, Observation(True, "redis", "PONG after the thaw"), probe=1)]
    states = steady_states([*deep, *ping], probes=2)
    outage = first_outage(states, INJECTED, at_once=True)
    assert outage is not None and outage.started == INJECTED
    assert outage.ended == pytest.approx(11.01) and "ok=False" in outage.first_failure


def test_recovery_needs_every_probe_to_pass_in_a_row() -> None:
    fast = [replace(s, probe=0) for s in polled((12.0, 13.0, True))]
    slow = [Sample(12.0, 12.5, Observation(False, "pg", "refused"), probe=1),
            Sample(12.5, 12.6, Observation(True, "pg", "ok"), probe=1),
            Sample(12.6, 12.7, Observation(True, "pg", "ok"), probe=1)]  # fmt: skip
    recovery = recovery_from([*fast, *slow], REVERTED, within=5, consecutive=2, probes=2)
    assert recovery is not None and recovery.recovered_s == pytest.approx(0.6)
    assert recovery.stable_s == pytest.approx(0.7)  # pg's second pass, fast had passed twice


def judged(
    spec: ChaosExperimentSpec,
    samples: list[Sample],
    seen_ok_at: list[float] = (),  # type: ignore[assignment]
    effects: list[Observation] = (EFFECT,),  # type: ignore[assignment]
) -> Result:
    allowed, _ = outage_allowance(spec)
    result = Result("e", "inconclusive", "", "SIGKILL process://svc", "process://svc", "h", 5,
                    0.05, allowed)  # fmt: skip
    watches = [watch(e, i) for i, e in enumerate(spec.expect)]
    for elapsed in seen_ok_at:
        update(watches[0], Observation(True, "GET /", "ok"), elapsed)
    seen = Observed(9.0, datetime(2026, 1, 1, tzinfo=UTC), INJECTED, INJECTED, REVERTED,
                    samples, 1, watches, list(effects), None)  # fmt: skip
    judge(result, spec, seen, TARGET)
    return result


def test_a_time_to_impact_is_only_what_was_observed() -> None:
    """A ride-out expectation seen at once is not an impact; the steady state failing is."""
    spec = experiment({"action": "cpu", "service": "svc"}, [{**KEEPS_ANSWERING, "hold": 5}])
    fine = judged(spec, polled((9.9, 13, True)), seen_ok_at=[0.01])
    assert fine.time_to_impact_s is None and fine.outage_s == 0 and fine.verdict == "passed"
    assert "time_to_impact_s" not in fine.figures and fine.outages == 0
    hit = judged(spec, polled((9.9, 10.8, True), (10.8, 11.3, False), (11.3, 13, True)), [0.01])
    assert hit.time_to_impact_s == pytest.approx(0.8)
    assert hit.figures["time_to_impact_s"].value == pytest.approx(0.8)


def test_an_outage_the_expectations_do_not_allow_fails_naming_it() -> None:
    spec = experiment(KILL, [KEEPS_ANSWERING])
    assert outage_allowance(spec) == (False, "an expectation says svc keeps answering")
    result = judged(spec, polled((9.9, 10, True), (10.02, 12.3, False), (12.3, 14, True)))
    assert result.verdict == "failed" and result.outage_s == pytest.approx(2.31)
    assert "an outage of 2.31 s (from 0.00 s after the injection), which the expectations do " \
           "not allow (an expectation says svc keeps answering)" in result.reason  # fmt: skip
    assert result.restored_by == "revert" and result.figures["outage_s"].target == "== 0"


def test_an_outage_a_kill_causes_by_design_is_measured_not_judged() -> None:
    spec = experiment(KILL)
    result = judged(spec, polled((9.9, 10, True), (10.02, 12.3, False), (12.3, 14, True)))
    assert result.verdict == "passed", result.reason
    assert result.outage_s == pytest.approx(2.31) and result.held_s == 2.0
    assert result.injected_offset_s == 1.0 and result.reverted_offset_s == 3.0
    assert result.recovery_s == pytest.approx(0.31)
    assert result.injected_at == datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)


def test_the_figures_are_the_latest_proofs_of_the_fault() -> None:
    """Read first, a supervisor's restart is still to come; read again before the revert, it is
    counted. A later read that no longer proves the fault does not replace the proof."""
    first = Observation(True, "svc", "OOM-killed", {"restarts_by_policy": Figure(0)})
    later = Observation(True, "svc", "OOM-killed, restarted", {"restarts_by_policy": Figure(1)})
    gone = Observation(False, "svc", "no OOM event", {"restarts_by_policy": Figure(2)})
    samples = polled((9.9, 14, True))
    for effects, restarts in (([first, later], 1), ([first, later, gone], 1), ([first, gone], 0)):
        result = judged(experiment(KILL), samples, effects=effects)
        assert result.figures["fault.restarts_by_policy"].value == restarts, effects


def test_an_outage_that_ended_before_the_revert_was_ended_by_the_service() -> None:
    result = judged(experiment(KILL), polled((10, 10.5, False), (10.5, 14, True)))
    assert result.restored_by == "service" and result.outage_s == pytest.approx(0.51)


@pytest.mark.parametrize(
    ("fault", "expect", "allowed"),
    [
        (KILL, [], True),
        (KILL, [{**KEEPS_ANSWERING, "expect": {"status": 503}}], True),
        (KILL, [{**KEEPS_ANSWERING, "service": "api"}], True),
        ({"action": "memory", "service": "svc", "victim": "service"}, [], True),
        ({"action": "memory", "service": "svc", "victim": "stressor"}, [], False),
        ({"action": "cpu", "service": "svc"}, [KEEPS_ANSWERING], False),
    ],
)
def test_which_expectations_allow_an_outage(
    fault: dict[str, Any], expect: list[dict[str, Any]], allowed: bool
) -> None:
    assert outage_allowance(experiment(fault, expect))[0] is allowed
