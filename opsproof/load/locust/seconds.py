"""The master's per-second merge: the workers' seconds are summed while any worker may still
send to them, then each closed second goes to ``timeline-<scenario>.jsonl`` and leaves memory.

A run of hours thus holds only the few seconds still open (plus the last closed one, for live
progress) however long it runs; the runner reads the timeline back from the file at the end.
"""

from dataclasses import dataclass, field
from pathlib import Path

from opsproof.load.result import Second
from opsproof.load.stats import MetricSet, Trend, Wire


@dataclass
class OpenSecond:
    metrics: MetricSet = field(default_factory=MetricSet)
    started: int = 0
    dropped: int = 0
    vus: int = 0
    cpu: float = 0.0


class SecondsLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.open: dict[int, OpenSecond] = {}
        self.last: Second | None = None
        """The latest closed second."""
        self.max_vus = 0
        self.closed = 0

    def absorb(self, wire: Wire, metrics: MetricSet) -> None:
        """One worker's second (``metrics`` is its wire's, already read)."""
        second = self.open.setdefault(int(str(wire["t"])), OpenSecond())
        second.metrics.merge(metrics)
        second.started += int(str(wire["started"]))
        second.dropped += int(str(wire["dropped"]))
        second.vus += int(str(wire["vus"]))
        second.cpu = max(second.cpu, float(str(wire["cpu"])))

    def close_before(self, before: int) -> None:
        """Write out every open second before ``before``: no worker will add to them."""
        done = sorted(t for t in self.open if t < before)
        if not done:
            return
        with self.path.open("a") as out:
            for t in done:
                self.last = _second(t, self.open.pop(t))
                self.max_vus = max(self.max_vus, self.last.vus)
                self.closed += 1
                out.write(self.last.model_dump_json() + "\n")


def _second(t: int, second: OpenSecond) -> Second:
    def percentile(key: str, percent: float) -> float | None:
        trend: Trend | None = second.metrics.trends.get(key)
        return trend.percentile_ms(percent) if trend and trend.count else None

    counters, rates = second.metrics.counters, second.metrics.rates
    durations = second.metrics.trends.get("http_req_duration")
    return Second(
        t=t,
        requests=int(counters.get("http_reqs", [0, 0])[0]),
        failures=rates.get("http_req_failed", [0, 0])[0],
        iterations=int(counters.get("iterations", [0, 0])[0]),
        started=second.started,
        dropped=second.dropped,
        vus=second.vus,
        p50=percentile("http_req_duration", 50),
        p90=percentile("http_req_duration", 90),
        p95=percentile("http_req_duration", 95),
        p99=percentile("http_req_duration", 99),
        p99_corrected=percentile("http_req_duration_corrected", 99),
        cpu=second.cpu,
        durations=durations.to_wire() if durations and durations.count else None,
    )
