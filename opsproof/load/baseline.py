"""A load run as a baseline: what ``load-summary.json`` stores of it (merged HDR histograms
per name, each second's histogram), its shape, and the newest passed run to compare with.

Two runs compare only when their shape is the same — the profile's digest, the time scale and
the target's URL —: a different shape asks a different question, and a change in the answer
would say nothing about the system.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from opsproof.errors import BaselineRefused
from opsproof.evidence.records import BaselineFigureRecord, BaselineRecord, ChartSeries
from opsproof.evidence.rundir import run_dirs
from opsproof.load.breakdown import Breakdown
from opsproof.load.noise import (
    QUANTILES,
    Errors,
    RowSample,
    SecondSample,
    design_effect,
    independent_errors,
    larger,
    latencies_of,
    quantile,
    seconds_errors,
    widened,
)
from opsproof.load.regression import Comparison, compare
from opsproof.load.stats import MetricSet, Trend, Wire
from opsproof.load.tolerances import METRICS, Metric, RegressionSpec, tolerances_for

SUMMARY_FILE = "load-summary.json"
EVIDENCE_FILE = "evidence.json"
PREVIOUS = "previous"
ALL_REQUESTS = "all requests"
"""The row of every request together (``http_req_duration``, ``http_req_failed``)."""
EDGES_KEPT_BELOW = 4
"""From this many seconds on, the first and the last (a partial second each: the generators
starting, the graceful stop) are left out of the bootstrap over seconds."""


@dataclass(frozen=True)
class Shape:
    """What must be equal for two runs to compare."""

    profile: str
    digest: str
    time_scale: float
    target: str

    def differs(self, baseline: "Shape") -> str | None:
        """Why ``baseline`` cannot be this run's baseline, in one line; None when it can."""
        if baseline.profile != self.profile or baseline.digest != self.digest:
            return (
                f"its profile differs ({baseline.profile} {baseline.digest}, this run "
                f"{self.profile} {self.digest}): scenarios or thresholds changed"
            )
        if baseline.time_scale != self.time_scale:
            return f"its time scale {baseline.time_scale:g} is not this run's {self.time_scale:g}"
        if baseline.target != self.target:
            return f"its target {baseline.target} is not this run's {self.target}"
        return None

    def to_wire(self) -> Wire:
        return {
            "profile": self.profile,
            "digest": self.digest,
            "time_scale": self.time_scale,
            "target": self.target,
        }


@dataclass(frozen=True)
class StoredRun:
    """One run's samples, as read back from its summary."""

    name: str
    shape: Shape
    overall: RowSample
    names: dict[str, RowSample]
    seconds: tuple[SecondSample, ...]

    def row(self, name: str) -> RowSample | None:
        return self.overall if name == ALL_REQUESTS else self.names.get(name)

    @cached_property
    def _by_seconds(self) -> Errors:
        return seconds_errors(self.seconds)

    def errors(self, name: str) -> Errors:
        """The row's standard errors: every request's from the bootstrap over seconds (never
        below the independent requests' one); a name's widened by the run's design effect."""
        overall = independent_errors(self.overall)
        by_seconds = self._by_seconds
        if name == ALL_REQUESTS:
            return larger(overall, by_seconds)
        sample = self.names.get(name)
        if sample is None:
            return Errors()
        return widened(independent_errors(sample), design_effect(by_seconds, overall))


def stored_run(summary: Mapping[str, object], name: str) -> StoredRun:
    """A summary written by ``suite.execute``; BaselineRefused when it lacks what a baseline
    needs (a run of an older opsproof)."""
    try:
        shape_wire = summary["shape"]
        assert isinstance(shape_wire, dict)
        shape = Shape(
            str(shape_wire["profile"]),
            str(shape_wire["digest"]),
            float(shape_wire["time_scale"]),
            str(shape_wire["target"]),
        )
        duration = float(str(summary["duration_s"]))
        metrics = MetricSet.from_wire(summary["metrics"])  # type: ignore[arg-type]
        by_name = Breakdown.from_wire(summary["names"])  # type: ignore[arg-type]
        timeline = summary["timeline"]
        assert isinstance(timeline, list)
    except (KeyError, AssertionError, TypeError, ValueError) as error:
        raise BaselineRefused(
            f"{name}: its {SUMMARY_FILE} lacks what a baseline needs ({error!r}); "
            "run the profile again with this version of opsproof"
        ) from None
    failed, total = metrics.rates.get("http_req_failed", [0, 0])
    trend = metrics.trends.get("http_req_duration", Trend())
    overall = RowSample(int(total), int(failed), duration, latencies_of(trend))
    names = {
        row: RowSample(stats.duration.count, stats.failures, duration, latencies_of(stats.duration))
        for row, stats in by_name.names.items()
    }
    seconds = tuple(
        SecondSample(
            int(second.get("requests", 0)),
            int(second.get("failures", 0)),
            latencies_of(Trend.from_wire(second["durations"])) if second.get("durations") else (),
        )
        for second in timeline
    )
    if len(seconds) >= EDGES_KEPT_BELOW:
        seconds = seconds[1:-1]
    return StoredRun(name, shape, overall, names, seconds)


def read_run(run_dir: Path) -> StoredRun:
    """The run in ``run_dir``; BaselineRefused in one line when it cannot be read."""
    path = run_dir / SUMMARY_FILE
    try:
        summary = json.loads(path.read_bytes())
    except OSError as error:
        raise BaselineRefused(
            f"{path}: cannot read the baseline's load summary ({error.strerror}); name the "
            "directory of a load run"
        ) from None
    except ValueError as error:
        raise BaselineRefused(f"{path}: not a load summary ({error})") from None
    if not isinstance(summary, dict):
        raise BaselineRefused(f"{path}: not a load summary")
    return stored_run(summary, run_dir.name)


def previous_run(
    reports_dir: Path, environment: str, profile: str, exclude: Path | None
) -> Path | None:
    """The newest run in ``reports_dir`` that passed, of ``environment``, that ran ``profile``."""
    for run_dir in reversed(run_dirs(reports_dir)):
        path = run_dir / SUMMARY_FILE
        if run_dir == exclude or not path.is_file():
            continue
        try:
            evidence = json.loads((path.parent / EVIDENCE_FILE).read_bytes())
            summary = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue  # a run that died before sealing its evidence
        if (
            isinstance(evidence, dict)
            and isinstance(summary, dict)
            and evidence.get("environment") == environment
            and evidence.get("verdict") == "passed"
            and summary.get("profile") == profile
        ):
            return path.parent
    return None


@dataclass(frozen=True)
class RowVerdict:
    """One row (a name, or every request) of this run against its baseline."""

    name: str
    comparisons: tuple[Comparison, ...]
    missing: bool = False
    """The baseline sent requests of this name; this run sent none."""

    def of(self, outcome: str) -> list[Comparison]:
        return [c for c in self.comparisons if c.outcome == outcome]

    @property
    def uncompared(self) -> list[Metric]:
        """Figures one of the runs measured too few requests for (``regression.comparable``)."""
        if self.missing or not self.comparisons:
            return []
        compared = {c.metric for c in self.comparisons}
        return [metric for metric in METRICS if metric not in compared]


def compare_row(
    baseline: StoredRun, now: StoredRun, name: str, spec: RegressionSpec | None
) -> RowVerdict:
    """``name``'s figures in both runs, judged by ``regression.decide``."""
    base, current = baseline.row(name), now.row(name)
    if base is None or not base.requests:
        return RowVerdict(name, ())
    if current is None or not current.requests:
        return RowVerdict(name, (), missing=True)
    tolerances = tolerances_for(spec, None if name == ALL_REQUESTS else name)
    pairs = ((base, baseline.errors(name)), (current, now.errors(name)))
    return RowVerdict(name, tuple(compare(*pairs, tolerances)))


def baseline_record(
    baseline: StoredRun, now: StoredRun, spec: RegressionSpec | None
) -> BaselineRecord:
    """Every row of the comparison for the report: every request together, then each name."""
    rows = [
        compare_row(baseline, now, name, spec) for name in [ALL_REQUESTS, *sorted(baseline.names)]
    ]
    figures = [
        BaselineFigureRecord(row.name, c.metric, c.baseline, c.now, c.tolerance, c.noise, c.outcome)
        for row in rows
        for c in row.comparisons
    ]
    return BaselineRecord(baseline.name, figures, [row.name for row in rows if row.missing])


def baseline_series(baseline: StoredRun) -> list[ChartSeries]:
    """The baseline's p95 each second, to draw over this run's latency."""
    values = [
        quantile(second.latencies, QUANTILES["p95"]) if second.latencies else None
        for second in baseline.seconds
    ]
    return [ChartSeries("baseline p95", "latency", values, dashed=True)]
