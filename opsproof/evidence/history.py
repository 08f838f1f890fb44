"""The history of ``reports/runs/``: every run, trends of key figures, missed scheduled runs."""

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from opsproof.evidence.model import RunRecord
from opsproof.evidence.rundir import run_dirs
from opsproof.evidence.upgrade import upgrade
from opsproof.evidence.verdict import RunVerdict

EVIDENCE_NAME = "evidence.json"
GRACE = 1.5
"""A scheduled run counts as missed when the gap exceeds this many intervals."""
RUN = TypeAdapter(RunRecord)


@dataclass(frozen=True)
class RunSummary:
    """One run as the history shows it."""

    name: str
    kind: str
    environment: str
    started_at: datetime
    verdict: RunVerdict
    label: str
    """``PASSED``, ``INCONCLUSIVE (dry run)``, ``FAILED (partial)``."""
    counts_toward_schedule: bool
    """A whole, real run that exercised the target: what a schedule asks for."""
    exit_status: int
    duration_s: float
    totals: dict[str, int]
    schedule_interval_s: float | None
    trends: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"


@dataclass(frozen=True)
class MissedRuns:
    """Scheduled runs of one kind and environment that did not happen."""

    kind: str
    environment: str
    after: str
    """The last run before the gap."""
    due_at: datetime
    count: int


def trend_points(run: RunRecord) -> dict[str, float]:
    """The key figures of a run that are worth a trend: duration, RTO, recovery times, p95."""
    points = {"duration (s)": round(run.duration_s, 3)}
    for drill in run.drills:
        for objective in drill.objectives:
            if objective.rto_achieved_s is not None:
                points[f"RTO {objective.system} (s)"] = objective.rto_achieved_s
    for experiment in run.experiments:
        if experiment.recovery_s is not None:
            points[f"recovery {experiment.name} (s)"] = experiment.recovery_s
    for check in run.checks:
        for figure in check.figures:
            value = _number(figure.value)
            if "p95" in figure.name and value is not None:
                unit = f" ({figure.unit})" if figure.unit else ""
                points[f"{figure.name} {check.id.rpartition('::')[2]}{unit}"] = value
    return points


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def summarize(name: str, run: RunRecord) -> RunSummary:
    return RunSummary(
        name=name,
        kind=run.kind,
        environment=run.environment,
        started_at=run.started_at,
        verdict=run.verdict,
        label=run.label,
        counts_toward_schedule=run.counts_toward_schedule,
        exit_status=run.exit_status,
        duration_s=run.duration_s,
        totals=dict(run.totals),
        schedule_interval_s=run.schedule_interval_s,
        trends=trend_points(run),
    )


def read_history(reports_dir: Path, series: str | None = None, limit: int = 0) -> list[RunSummary]:
    """Runs oldest first (the last ``limit`` when given), older schemas judged by today's rules;
    unreadable ones are left out."""
    paths = run_dirs(reports_dir, series)
    summaries = []
    for path in paths[-limit:] if limit else paths:
        try:
            run = RUN.validate_python(upgrade(json.loads((path / EVIDENCE_NAME).read_bytes())))
        except (OSError, ValueError, ValidationError):
            continue  # a run that died before writing, or a schema this version cannot read
        summaries.append(summarize(path.name, run))
    return summaries


def missed_runs(history: Sequence[RunSummary], now: datetime) -> list[MissedRuns]:
    """Gaps longer than the schedule allows, between runs and since the latest run; dry, partial
    and inconclusive runs do not count as runs here."""
    missed = []
    for (kind, environment), series in by_series(history).items():
        # the first attempt starts the schedule even when it did not count: a series of
        # nothing but inconclusive runs has missed every night since
        runs = [run for run in series if run.counts_toward_schedule]
        if series[0] not in runs:
            runs.insert(0, series[0])
        for before, after in zip(runs, [*runs[1:], None], strict=True):
            interval = before.schedule_interval_s
            if interval is None:
                continue
            end = after.started_at if after else now
            gap = (end - before.started_at).total_seconds()
            if gap <= interval * GRACE:
                continue
            count = round(gap / interval) - 1 if after else math.floor(gap / interval - 0.5)
            due = before.started_at + timedelta(seconds=interval)
            missed.append(MissedRuns(kind, environment, before.name, due, max(1, count)))
    return missed


def series_trends(history: Iterable[RunSummary]) -> dict[str, list[tuple[str, float]]]:
    """Figure name → (run name, value) in run order, for figures seen in at least two runs."""
    series: dict[str, list[tuple[str, float]]] = {}
    for run in history:
        for name, value in run.trends.items():
            series.setdefault(name, []).append((run.name, value))
    return {name: points for name, points in series.items() if len(points) > 1}


def by_series(history: Iterable[RunSummary]) -> dict[tuple[str, str], list[RunSummary]]:
    grouped: dict[tuple[str, str], list[RunSummary]] = {}
    for run in history:
        grouped.setdefault((run.kind, run.environment), []).append(run)
    return grouped
