"""A worker's collector appends samples and folds them into metrics when a second is sent: the
folded figures must be exactly those of recording each sample on its own."""

from opsproof.load.locust.collector import Collector
from opsproof.load.locust.columns import RequestSample
from opsproof.load.locust.wire_timing import WireTimes
from opsproof.load.stats import MetricSet


def sample(micros: int, *, failed: bool = False, wire: WireTimes | None = None) -> RequestSample:
    return RequestSample(
        method="GET", name="/a", url="/a?x=1", status=500 if failed else 200, micros=micros,
        size=100, failed=failed, corrected=micros + 5 if micros > 2000 else None, wire=wire,
    )  # fmt: skip


def folded(collector: Collector) -> MetricSet:
    seconds, _ = collector.drain(final=True)
    metrics = MetricSet()
    for second in seconds:
        metrics.merge(MetricSet.from_wire(second["metrics"]))  # type: ignore[arg-type]
    return metrics


def test_folded_requests_and_iterations_equal_their_samples() -> None:
    collector = Collector(
        "smoke", ["http_req_duration{status:500}", "iterations{scenario:smoke}"], corrected=True
    )
    collector.request(sample(1000))
    collector.request(sample(3000, failed=True, wire=WireTimes(0.003, 0.0001, 0.0025, 0.0004, 80)))
    collector.request(sample(3000, wire=WireTimes(0.003, 0.0002, 0.0026, 0.0002, 90)))
    collector.iteration(1.0, 1.25)
    collector.iteration(1.0, 1.5)

    metrics = folded(collector)

    assert metrics.counters["http_reqs"] == [3, 3]
    assert metrics.counters["data_received"] == [300, 3]
    assert metrics.counters["data_sent"] == [170, 2]
    assert metrics.rates["http_req_failed"] == [1, 3]
    duration = metrics.trends["http_req_duration"]
    assert (duration.count, duration.total_us, duration.min_us, duration.max_us) == (
        3, 7000, 1000, 3000
    )  # fmt: skip
    assert metrics.trends["http_req_duration_corrected"].count == 2
    assert metrics.trends["http_req_duration_corrected"].min_us == 3005
    assert metrics.trends["http_req_waiting"].total_us == 2500 + 2600
    assert metrics.trends["http_req_sending"].max_us == 200
    assert metrics.trends["http_req_receiving"].min_us == 200
    assert metrics.trends["http_req_duration{status:500}"].count == 1  # tagged, as it came
    assert metrics.counters["iterations"] == [2, 2]
    assert metrics.counters["iterations{scenario:smoke}"] == [2, 2]
    assert metrics.trends["iteration_duration"].total_us == 750_000


def test_a_second_with_no_request_has_no_request_metrics() -> None:
    collector = Collector("smoke", [], corrected=False)
    collector.iteration(1.0, 1.1)

    metrics = folded(collector)

    assert "http_reqs" not in metrics.counters
    assert "http_req_duration" not in metrics.trends
    assert metrics.counters["iterations"] == [1, 1]
