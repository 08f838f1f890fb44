"""What a Locust master reports for its scenario, and the whole run as the pytest side sees it.

The master writes ``result-<scenario>.json``; the runner reads every scenario's file and merges
them into a ``LoadResult``: one MetricSet for thresholds, one timeline for the chart.
"""

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from opsproof.load.breakdown import Breakdown
from opsproof.load.cpu_use import CpuUse
from opsproof.load.stats import MetricSet, Trend, Wire

RESULT_PREFIX = "result-"
PROGRESS_PREFIX = "progress-"
TIMELINE_PREFIX = "timeline-"
"""``timeline-<scenario>.jsonl``: the master appends each closed second, keeping none in memory."""
STOP_PREFIX = "stop-"
"""A file ``stop-<scenario>`` in the output directory asks its master to stop the workers."""


class Second(BaseModel):
    """One second of a scenario, summed over its workers."""

    model_config = ConfigDict(frozen=True)

    t: int
    """Seconds since the scenario's start (after startTime)."""
    requests: int = 0
    failures: int = 0
    iterations: int = 0
    started: int = 0
    """Iterations begun in this second."""
    dropped: int = 0
    vus: int = 0
    p50: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    p99_corrected: float | None = None
    cpu: float = 0.0
    """Highest CPU use of one generator process in this second, in percent of one core."""
    durations: Wire | None = None
    """This second's ``http_req_duration`` trend (HDR histogram): exact percentiles over any
    span of seconds, such as a phase of a chaos experiment."""


def read_timeline(path: Path) -> list[Second]:
    """A master's ``timeline-<scenario>.jsonl``, oldest second first."""
    if not path.exists():
        return []
    return [Second.model_validate_json(line) for line in path.read_text().splitlines() if line]


class WorkerSummary(BaseModel):
    """One worker's own account of its share."""

    model_config = ConfigDict(frozen=True)

    index: int
    vus_needed: int
    vus_started: int
    intended: int = 0
    """Arrivals due by the end (arrival-rate executors)."""
    started: int = 0
    dropped: int = 0
    requests: int = 0
    cpu: CpuUse = CpuUse()
    max_start_lag_ms: float = 0.0
    capped: bool = False
    task_errors: int = 0
    """Iterations the user class ended with an exception (a broken script, not a slow SUT)."""
    first_error: str = ""


class ScenarioResult(BaseModel):
    scenario: str
    executor: str
    user_class: str
    started_at: float = 0.0
    """Wall-clock time of the scenario's start, for aligning concurrent scenarios."""
    duration_s: float = 0.0
    metrics: Wire = {}
    breakdown: Wire = {}
    """Requests by name (``Breakdown``'s wire form)."""
    timeline: list[Second] = []
    workers: list[WorkerSummary] = []
    master_cpu: CpuUse = CpuUse()
    aborted: str | None = None
    """The abortOnFail threshold that stopped the run, or the caller's stop, and when."""
    error: str | None = None


@dataclass
class LoadResult:
    """Every scenario of one run, and their samples merged."""

    scenarios: list[ScenarioResult]
    metrics: MetricSet
    duration_s: float
    timeline: list[Second]
    errors: list[str] = field(default_factory=list)
    breakdown: Breakdown = field(default_factory=Breakdown)
    """Requests by name, over every scenario."""

    @property
    def aborted(self) -> str | None:
        return next((s.aborted for s in self.scenarios if s.aborted), None)


def merge_results(scenarios: list[ScenarioResult], errors: list[str]) -> LoadResult:
    """Sum metrics over scenarios; align their timelines by wall-clock second."""
    metrics, breakdown = MetricSet(), Breakdown()
    for scenario in scenarios:
        metrics.merge(MetricSet.from_wire(scenario.metrics))
        breakdown.merge(Breakdown.from_wire(scenario.breakdown))
    errors = errors + [f"{s.scenario}: {s.error}" for s in scenarios if s.error]
    errors += [
        f"{s.scenario}: {sum(w.task_errors for w in s.workers)} iterations raised in "
        f"{s.user_class} (first: {next(w.first_error for w in s.workers if w.first_error)})"
        for s in scenarios
        if any(w.task_errors for w in s.workers)
    ]
    if not scenarios:
        return LoadResult([], metrics, 0.0, [], errors, breakdown)
    origin = min(s.started_at for s in scenarios)
    seconds: dict[int, list[Second]] = {}
    for scenario in scenarios:
        shift = round(scenario.started_at - origin)
        for second in scenario.timeline:
            seconds.setdefault(second.t + shift, []).append(second)
    timeline = [_combine(t, parts) for t, parts in sorted(seconds.items())]
    duration = max(s.started_at - origin + s.duration_s for s in scenarios)
    return LoadResult(scenarios, metrics, duration, timeline, errors, breakdown)


def _combine(t: int, parts: list[Second]) -> Second:
    if len(parts) == 1:
        return parts[0].model_copy(update={"t": t})

    def highest(name: str) -> float | None:
        values = [v for p in parts if (v := getattr(p, name)) is not None]
        return max(values) if values else None  # a bound: exact percentiles are per scenario

    return Second(
        t=t,
        requests=sum(p.requests for p in parts),
        failures=sum(p.failures for p in parts),
        iterations=sum(p.iterations for p in parts),
        started=sum(p.started for p in parts),
        dropped=sum(p.dropped for p in parts),
        vus=sum(p.vus for p in parts),
        p50=highest("p50"),
        p90=highest("p90"),
        p95=highest("p95"),
        p99=highest("p99"),
        p99_corrected=highest("p99_corrected"),
        cpu=max(p.cpu for p in parts),
        durations=_merged_durations(parts),
    )


def _merged_durations(parts: list[Second]) -> Wire | None:
    wires = [p.durations for p in parts if p.durations is not None]
    if not wires:
        return None
    trend = Trend.from_wire(wires[0])
    for wire in wires[1:]:
        trend.merge(Trend.from_wire(wire))
    return trend.to_wire()
