"""The background load's seconds split into phases: a second wholly inside a phase counts in
it, one a boundary cuts counts in none; percentiles are merged histograms, exact over the
phase, not the largest per-second percentile."""

import pytest

from opsproof.config.models import BackgroundLoadSpec
from opsproof.faults.phases import Bounds, judge_load, split
from opsproof.load.result import LoadResult, ScenarioResult, Second
from opsproof.load.stats import MetricSet, Trend

ORIGIN = 1_000.0


def _second(t: int, latencies_ms: list[int], failures: int = 0) -> Second:
    trend = Trend()
    trend.record_all(ms * 1000 for ms in latencies_ms)
    return Second(t=t, requests=len(latencies_ms), failures=failures, durations=trend.to_wire())


def _result(seconds: list[Second]) -> LoadResult:
    scenario = ScenarioResult(
        scenario="s", executor="constant-vus", user_class="U", started_at=ORIGIN
    )
    return LoadResult([scenario], MetricSet(), float(len(seconds)), seconds)


def test_seconds_cut_by_a_boundary_count_in_no_phase() -> None:
    seconds = [_second(t, [10] * 10) for t in range(8)]
    # injected 2.5 s and reverted 5.0 s into the load, recovered at 5.5 s
    bounds = Bounds(ORIGIN + 2.5, ORIGIN + 5.0, ORIGIN + 5.5)
    phases, cut = split(_result(seconds), bounds)
    assert phases["before"].seconds == 2  # 0 and 1; 2 is cut by the injection
    assert phases["during"].seconds == 2  # 3 and 4
    assert phases["recovering"].seconds == 0  # 5 is cut by the recovery
    assert phases["after"].seconds == 2  # 6 and 7
    assert cut == 2


def test_a_phase_percentile_is_exact_not_the_largest_second() -> None:
    """One slow second among four: the phase's p50 is the fast answers', which a maximum of
    per-second medians would miss."""
    seconds = [_second(0, [10] * 10), _second(1, [10] * 10), _second(2, [10] * 10)]
    seconds.append(_second(3, [900] * 10))
    phases, _ = split(_result(seconds), Bounds(ORIGIN + 10, ORIGIN + 11, ORIGIN + 12))
    before = phases["before"]
    assert before.percentile(50) == pytest.approx(10.0, rel=0.001)  # HDR: 3 digits
    assert before.percentile(99) == pytest.approx(900.0, rel=0.001)


def test_a_limit_not_met_names_phase_figure_limit_and_actual() -> None:
    seconds = [_second(0, [10] * 10), _second(1, [10] * 10, failures=4)]
    spec = BackgroundLoadSpec.model_validate(
        {"profile": "p.yaml", "expect": {"during": {"error_rate": "<= 5%", "p95": "< 1s"}}}
    )
    judged = judge_load(spec, _result(seconds), Bounds(ORIGIN + 1, ORIGIN + 2, None), [])
    assert judged.problems == [
        "load during the fault: error_rate 40.00%, limit <= 5% (10 requests, 4 failed, in 1 "
        "whole seconds)"
    ]
    assert judged.figures["load.during.error_rate"].value == 0.4
    assert judged.figures["load.during.error_rate"].target == "<= 0.05"


def test_no_load_result_is_never_a_pass() -> None:
    spec = BackgroundLoadSpec.model_validate(
        {"profile": "p.yaml", "expect": {"during": {"error_rate": "<= 5%"}}}
    )
    judged = judge_load(spec, None, Bounds(ORIGIN, ORIGIN + 1, None), ["master died"])
    assert judged.missing == ["background load: master died"]
