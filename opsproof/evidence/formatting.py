"""How figures read in every report (HTML, Markdown, PDF): durations, moments, figures."""

from datetime import UTC, date, datetime, timedelta

from opsproof.evidence.model import FigureRecord, RunRecord
from opsproof.evidence.records import DrillRecord, SignOff

DEFAULT_SIGN_OFF = (SignOff(role="Approver"),)
"""Who signs a drill protocol besides the operator when the drill names no one."""


def seconds(value: float | None) -> str:
    """``850 ms``, ``4.2 s``, ``12 min 5 s``, ``2 h 3 min``; ``—`` for no value."""
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.3g} s"
    minutes, rest = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def baseline_figure(metric: str, value: float, signed: bool = False) -> str:
    """A figure of a baseline comparison: ``12.3 ms``, ``0.50%`` (a change of an error rate in
    points: ``+0.40pp``), ``40.1 req/s``."""
    sign = "+" if signed else ""
    if metric == "error_rate":
        return f"{value * 100:{sign}.2f}pp" if signed else f"{value * 100:.2f}%"
    if metric == "throughput":
        return f"{value:{sign}.1f} req/s"
    return f"{value:{sign}.1f} ms" if abs(value) >= 10 else f"{value:{sign}.2f} ms"


def moment(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def figure(record: FigureRecord) -> str:
    unit = f" {record.unit}" if record.unit else ""
    target = f" (target {record.target})" if record.target else ""
    return f"{record.name} = {record.value}{unit}{target}"


def next_drill_due(run: RunRecord, drill: DrillRecord) -> date | None:
    """The drill's own date, else the run's start plus its schedule interval."""
    if drill.next_drill_due is not None or run.schedule_interval_s is None:
        return drill.next_drill_due
    return (run.started_at + timedelta(seconds=run.schedule_interval_s)).date()


def totals(counts: dict[str, int]) -> str:
    """``12 passed, 1 failed, 3 not applicable``: every verdict that occurred, in one order."""
    shown = [f"{n} {verdict.replace('_', ' ')}" for verdict, n in counts.items() if n]
    return ", ".join(shown) or "no checks"


def run_notes(run: RunRecord) -> list[str]:
    """What a reader must know before trusting the verdict: a dry run, a partial selection,
    nothing exercised."""
    notes = []
    if run.dry_run:
        notes.append("Dry run: plans were printed, nothing was touched; not a result.")
    selection = run.selection
    if selection.partial:
        asked = [
            f"-k {selection.keyword!r}" if selection.keyword else "",
            f"-m {selection.markers!r}" if selection.markers else "",
            " ".join(selection.args),
        ]
        left = [
            f"{selection.deselected} deselected" if selection.deselected else "",
            f"{selection.not_run} not run" if selection.not_run else "",
        ]
        parts = [" ".join(a for a in asked if a), ", ".join(n for n in left if n)]
        said = "; ".join(part for part in parts if part)
        notes.append(f"Partial run: {said}; it does not count as a whole run of the suite.")
    if run.verdict == "inconclusive" and not run.dry_run:
        notes.append(
            "Inconclusive: no check exercised the target and passed (everything was "
            "inconclusive, not applicable or not evaluated), so this run proves nothing."
        )
    return notes
