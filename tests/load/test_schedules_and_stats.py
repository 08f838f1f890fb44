"""What each executor intends (pure schedules), how work is split among workers, and HDR
statistics that merge across workers without losing precision."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsproof.load.locust.gates import IterationGate
from opsproof.load.options import (
    ConstantArrivalRate,
    RampingArrivalRate,
    RampingVus,
    SharedIterations,
)
from opsproof.load.schedules import ArrivalSchedule, share, vus_at
from opsproof.load.stats import HIGHEST_US, MetricSet, Trend, new_histogram
from opsproof.load.thresholds import parse_expression, parse_selector


@given(st.integers(0, 10_000), st.integers(1, 16))
def test_shares_of_all_workers_add_up_exactly(count: int, workers: int) -> None:
    assert sum(share(count, index, workers) for index in range(workers)) == count


def test_ramping_vus_move_one_at_a_time_rounding_toward_the_stage_start() -> None:
    scenario = RampingVus.model_validate(
        {
            "executor": "ramping-vus",
            "startVUs": 0,
            "stages": [{"duration": "10s", "target": 5}, {"duration": "5s", "target": 0}],
        }
    )
    seen = [vus_at(scenario, t) for t in (0, 1.99, 2, 9.99, 10, 10.5, 11, 14.99, 15, 99)]
    assert seen == [0, 0, 1, 4, 5, 5, 4, 1, 0, 0]


def test_constant_arrival_rate_spaces_arrivals_evenly() -> None:
    scenario = ConstantArrivalRate.model_validate(
        {
            "executor": "constant-arrival-rate",
            "rate": 30,
            "timeUnit": "1m",
            "duration": "2m",
            "preAllocatedVUs": 1,
        }
    )
    schedule = ArrivalSchedule(scenario)
    assert schedule.total == 60
    assert [schedule.offset(n) for n in (0, 1, 59, 60)] == [0.0, 2.0, 118.0, None]


@given(
    st.integers(0, 50),
    st.lists(st.tuples(st.integers(1, 20), st.integers(0, 80)), min_size=1, max_size=4),
)
def test_ramping_arrivals_follow_the_area_under_the_rate(
    start: int, stages: list[tuple[int, int]]
) -> None:
    scenario = RampingArrivalRate.model_validate(
        {
            "executor": "ramping-arrival-rate",
            "startRate": start,
            "stages": [{"duration": f"{d}s", "target": t} for d, t in stages],
            "preAllocatedVUs": 1,
        }
    )
    schedule = ArrivalSchedule(scenario)
    offsets = [schedule.offset(n) for n in range(schedule.total)]
    assert all(o is not None for o in offsets)
    times = [o for o in offsets if o is not None]
    assert times == sorted(times) and all(0 <= t <= schedule.end for t in times)
    for t in times[:: max(1, len(times) // 10)]:
        # just after arrival n's time, n+1 arrivals are due (within float rounding)
        assert schedule.before(t + 1e-3) >= times.index(t) + 1


def _exact_percentile(values: list[int], percent: float) -> int:
    ordered = sorted(values)
    rank = max(1, round(percent / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(len(ordered), rank) - 1]


def test_merged_histograms_equal_one_histogram_of_everything() -> None:
    rng = random.Random(5)
    samples = [int(rng.lognormvariate(10.5, 0.6)) for _ in range(20_000)]  # µs, ~36 ms median
    workers = [Trend(), Trend()]
    whole = Trend()
    for index, micros in enumerate(samples):
        workers[index % 2].record(micros)
        whole.record(micros)
    merged = Trend()
    for trend in workers:
        merged.merge(Trend.from_wire(trend.to_wire()))  # as it travels between processes
    for percent in (50, 90, 95, 99, 99.9):
        assert merged.percentile_ms(percent) == whole.percentile_ms(percent)
        exact = _exact_percentile(samples, percent) / 1000
        assert merged.percentile_ms(percent) == pytest.approx(exact, rel=1e-3)  # 3 digits
    assert (merged.count, merged.min_us, merged.max_us) == (
        len(samples),
        min(samples),
        max(samples),
    )
    assert merged.aggregate_ms("avg") == pytest.approx(sum(samples) / len(samples) / 1000)


def test_metric_set_aggregates_like_k6() -> None:
    metrics = MetricSet()
    for failed in (False, False, False, True):
        metrics.count("http_reqs")
        metrics.rate("http_req_failed", failed)
    metrics.trend("http_req_duration").record(250_000)
    again = MetricSet.from_wire(metrics.to_wire())

    def value(metric: str, expression: str) -> float:
        return again.aggregate(parse_selector(metric), parse_expression(expression), 2.0)

    assert value("http_reqs", "count>0") == 4
    assert value("http_reqs", "rate>0") == 2.0  # per second of the run
    assert value("http_req_failed", "rate<0.5") == 0.25
    assert value("http_req_duration", "p(95)<300") == 250.0
    assert again.samples("http_req_duration{name:/x}") == 0


@given(
    st.lists(st.integers(-5, HIGHEST_US + 5) | st.integers(0, 5_000), max_size=60),
    st.lists(st.integers(0, 100_000), max_size=20),
)
def test_a_trend_counts_exactly_what_hdrs_own_recording_counts(
    first: list[int], second: list[int]
) -> None:
    trend, reference = Trend(), new_histogram()
    for batch in (first, second):  # settled twice: the second adds to what the first left
        trend.record_all(batch)
        for micros in batch:
            reference.record_value(min(max(micros, 0), HIGHEST_US))
        histogram = trend.histogram
    assert list(histogram.counts) == list(reference.counts)
    assert histogram.total_count == reference.total_count == trend.count
    if trend.count:
        assert (histogram.min_value, histogram.max_value) == (
            reference.min_value,
            reference.max_value,
        )
        assert trend.total_us == sum(min(max(m, 0), HIGHEST_US) for m in first + second)


def test_shared_iterations_go_to_the_workers_that_have_vus() -> None:
    """One VU on two workers: the other worker has no VU to run a share, so it gets none (it
    would otherwise hold its half until maxDuration)."""
    scenario = SharedIterations(executor="shared-iterations", vus=1, iterations=39)
    pools = [IterationGate(scenario, index, 2).pool for index in range(2)]
    assert pools == [39, 0]
    both = SharedIterations(executor="shared-iterations", vus=4, iterations=39)
    assert [IterationGate(both, index, 2).pool for index in range(2)] == [20, 19]
