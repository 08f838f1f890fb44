"""A worker's samples, bucketed by second since the scenario's start.

Each request and iteration is appended to its second's columns (and, for the submetrics whose
tags it carries, recorded at once); a second's columns are folded into its MetricSet when the
second is sent. The master merges seconds into the run's totals and timeline.
"""

import time
from dataclasses import dataclass, field

import psutil

from opsproof.load.breakdown import Breakdown
from opsproof.load.cpu_use import CpuUse
from opsproof.load.locust.columns import Columns, IterationKeys, RequestSample
from opsproof.load.stats import MetricSet, Wire
from opsproof.load.thresholds import Selector, parse_selector


@dataclass
class Bucket:
    metrics: MetricSet = field(default_factory=MetricSet)
    columns: Columns = field(default_factory=Columns)
    """Samples not yet in ``metrics``."""
    started: int = 0
    dropped: int = 0
    vus: int = 0
    cpu: float = 0.0

    def to_wire(self, second: int, iteration_keys: IterationKeys, names: Breakdown) -> Wire:
        self.columns.fold_into(self.metrics, iteration_keys)
        self.columns.fold_names(names)
        return {
            "t": second,
            "metrics": self.metrics.to_wire(),
            "started": self.started,
            "dropped": self.dropped,
            "vus": self.vus,
            "cpu": self.cpu,
        }


class Collector:
    def __init__(self, scenario: str, submetrics: list[str], corrected: bool) -> None:
        self.scenario = scenario
        self.corrected = corrected
        """Arrival-rate executors also record latency from the intended start."""
        self.t0 = time.monotonic()
        self.requests = 0
        self.cpu_use = CpuUse()
        self.breakdown = Breakdown()
        """Every request by name, for the whole run: sent once, with the final report."""
        self._buckets: dict[int, Bucket] = {}
        self._current = Bucket()
        self._current_start = self._current_end = 0.0
        """The bucket of the second being filled, and that second's bounds (monotonic)."""
        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first reading only starts the interval
        self._submetrics: dict[str, list[Selector]] = {}
        for text in submetrics:
            selector = parse_selector(text)
            self._submetrics.setdefault(selector.metric, []).append(selector)
        self._request_submetrics = [
            s for metric in REQUEST_METRICS for s in self._submetrics.get(metric, ())
        ]
        # these metrics' only tag is the scenario, so their keys are fixed: work them out once
        # rather than on every iteration
        scenario_tags = {"scenario": scenario}
        self._iteration_keys = IterationKeys(
            self._keys("iterations", scenario_tags), self._keys("iteration_duration", scenario_tags)
        )
        self._dropped_keys = self._keys("dropped_iterations", scenario_tags)

    def start_at(self, t0: float) -> None:
        """Seconds count from ``t0`` (monotonic), the scenario's start on every worker."""
        self.t0 = t0
        self._current_start = self._current_end = 0.0

    def bucket(self, now: float | None = None) -> Bucket:
        """The bucket of the second ``now`` (monotonic; the current time if None) falls in."""
        if now is None:
            now = time.monotonic()
        if self._current_start <= now < self._current_end:  # the common case, cheaply
            return self._current
        second = max(0, int(now - self.t0))
        found = self._buckets.get(second)
        if found is None:
            found = self._buckets[second] = Bucket()
        if second == int(now - self.t0):  # not before t0: that bucket spans more than a second
            self._current = found
            self._current_start, self._current_end = self.t0 + second, self.t0 + second + 1
        return found

    def request(self, sample: RequestSample) -> None:
        self.requests += 1
        bucket = self.bucket()
        bucket.columns.request(sample)
        if self._request_submetrics:  # only thresholds on tagged metrics pay for tags
            metrics = bucket.metrics
            tags = {
                "name": sample.name,
                "method": sample.method,
                "status": str(sample.status),
                "url": sample.url,
                "expected_response": "false" if sample.failed else "true",
                "scenario": self.scenario,
            }
            for selector in self._request_submetrics:
                if selector.matches(tags):
                    _record_one(metrics, str(selector), selector.metric, sample)

    def check(self, name: str, ok: bool) -> None:
        for key in self._keys("checks", {"check": name, "scenario": self.scenario}):
            self.bucket().metrics.rate(key, ok)

    def iteration(self, began: float, ended: float) -> None:
        """An iteration that ran from ``began`` to ``ended`` (monotonic), in ``ended``'s second."""
        self.bucket(ended).columns.iterations.append(int((ended - began) * 1e6))

    def started(self, now: float) -> None:
        self.bucket(now).started += 1

    def arrived(self, dropped: bool) -> None:
        """Every arrival is a sample of dropped_iterations: 0 dropped is a measurement."""
        bucket = self.bucket()
        bucket.dropped += int(dropped)
        for key in self._dropped_keys:
            bucket.metrics.count(key, float(dropped))

    def sample(self, vus: int) -> None:
        """Once a second: active VUs and this process's CPU use."""
        bucket = self.bucket()
        bucket.vus = vus
        bucket.cpu = self._process.cpu_percent(None)
        self.cpu_use.add(bucket.cpu)

    def drain(self, final: bool) -> tuple[list[Wire], int]:
        """Closed seconds (all with ``final``) as wire data, and the first second still open."""
        current = int(time.monotonic() - self.t0) + (1 << 30 if final else 0)
        closed = sorted(second for second in self._buckets if second < current)
        keys = self._iteration_keys
        wires = [
            self._buckets.pop(second).to_wire(second, keys, self.breakdown) for second in closed
        ]
        return wires, max(0, current)

    def _keys(self, metric: str, tags: dict[str, str]) -> list[str]:
        keys = [metric]
        for selector in self._submetrics.get(metric, ()):
            if selector.matches(tags):
                keys.append(str(selector))
        return keys


REQUEST_METRICS = (
    "http_reqs",
    "data_received",
    "data_sent",
    "http_req_failed",
    "http_req_duration",
    "http_req_duration_corrected",
    "http_req_sending",
    "http_req_waiting",
    "http_req_receiving",
)


def _record_one(metrics: MetricSet, key: str, metric: str, sample: RequestSample) -> None:
    """One request into the submetric ``key`` of ``metric``."""
    wire = sample.wire
    match metric:
        case "http_reqs":
            metrics.count(key)
        case "data_received":
            metrics.count(key, sample.size)
        case "http_req_failed":
            metrics.rate(key, sample.failed)
        case "http_req_duration":
            metrics.trend(key).record(sample.micros)
        case "http_req_duration_corrected" if sample.corrected is not None:
            metrics.trend(key).record(sample.corrected)
        case "data_sent" if wire is not None:
            metrics.count(key, wire.bytes_sent)
        case "http_req_sending" if wire is not None:
            metrics.trend(key).record(int(wire.sending * 1e6))
        case "http_req_waiting" if wire is not None:
            metrics.trend(key).record(int(wire.waiting * 1e6))
        case "http_req_receiving" if wire is not None:
            metrics.trend(key).record(int(wire.receiving * 1e6))
