"""``report.html``: one self-contained page (inline CSS and SVG, no script, no external asset)
that tells an engineer what failed and why, and an auditor what was evidenced."""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from opsproof.evidence import charts, formatting
from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.experiment_chart import experiment_timeline
from opsproof.evidence.history import MissedRuns, RunSummary, by_series, series_trends
from opsproof.evidence.load_chart import load_chart
from opsproof.evidence.model import CheckRecord, RunRecord
from opsproof.evidence.records import DrillRecord

KIND_TITLES = {
    "gate": "deploy gate",
    "chaos": "nightly chaos",
    "dr": "DR drill",
    "load": "load test",
}
_ORDER = {
    "failed": 0,
    "inconclusive": 1,
    "waived": 2,
    "not_evaluated": 3,
    "not_applicable": 4,
    "passed": 5,
}


@dataclass(frozen=True)
class ReportContext:
    """What a report shows beyond the run itself."""

    run_name: str
    catalogue: Catalogue
    history: list[RunSummary]
    """Runs of the same kind and environment, oldest first, this one included."""
    missed: list[MissedRuns]


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("opsproof.evidence", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(
        seconds=formatting.seconds,
        moment=formatting.moment,
        figure=formatting.figure,
        totals=formatting.totals,
    )
    return environment


def render_html(run: RunRecord, context: ReportContext) -> str:
    checks = sorted(run.checks, key=lambda c: (_ORDER[c.verdict], c.id))

    def checks_of(control: str) -> list[CheckRecord]:
        return [check for check in checks if control in check.controls]

    def next_due(drill: DrillRecord) -> date | None:
        return formatting.next_drill_due(run, drill)

    template = _environment().get_template("report.html.j2")
    return template.render(
        run=run,
        run_name=context.run_name,
        kind_title=KIND_TITLES.get(run.kind, run.kind),
        notes=formatting.run_notes(run),
        checks=checks,
        failures=[check for check in checks if check.verdict == "failed"],
        control_counts=dict(sorted(Counter(run.controls.values()).items())),
        catalogue=context.catalogue,
        checks_of=checks_of,
        next_due=next_due,
        default_sign_off=formatting.DEFAULT_SIGN_OFF,
        history=context.history,
        missed=context.missed,
        trends=series_trends(context.history),
        trend_chart=charts.trend_chart,
        timeline=charts.phase_timeline,
        experiment_timeline=experiment_timeline,
        load_chart=load_chart,
        baseline_figure=formatting.baseline_figure,
    )


def render_index(
    reports_dir: Path, history: list[RunSummary], missed: list[MissedRuns], now: datetime
) -> str:
    """``index.html`` of a reports directory: every run by kind and environment, missed runs."""
    template = _environment().get_template("index.html.j2")
    return template.render(
        reports_dir=reports_dir,
        history=history,
        series=by_series(history),
        missed=missed,
        now=now,
    )
