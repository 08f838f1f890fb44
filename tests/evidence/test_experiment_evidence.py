"""An experiment's timeline in every format: held, impact, outage, recovery and who ended the
outage in summary.md and report.html (with an inline SVG timeline), and nothing of the kind —
never "not recovered" — for an experiment that was not injected."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from opsproof.evidence.catalogue import load_catalogue
from opsproof.evidence.experiment_chart import experiment_timeline
from opsproof.evidence.html import ReportContext, render_html
from opsproof.evidence.model import CheckRecord, FigureRecord, RunRecord
from opsproof.evidence.properties import EXPERIMENT
from opsproof.evidence.records import ExperimentRecord
from opsproof.evidence.writers import render_markdown

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

KILLED = ExperimentRecord(
    name="timed killed",
    hypothesis="h",
    fault="SIGKILL process://timed",
    verdict="passed",
    started_at=START,
    injected_at=START + timedelta(seconds=0.2),
    injected_offset_s=0.2,
    reverted_at=START + timedelta(seconds=1.25),
    reverted_offset_s=1.25,
    held_s=1.05,
    time_to_impact_s=0.03,
    outage_s=3.08,
    outage_offset_s=0.2,
    outages=1,
    outage_allowed=True,
    restored_by="revert",
    recovery_s=2.03,
    recovery_target_s=10,
    poll_interval_s=0.05,
)
NOT_INJECTED = ExperimentRecord(
    name="never injected",
    hypothesis="h",
    fault="SIGKILL process://redis",
    verdict="not_injected",
    started_at=START,
    recovery_target_s=10,
    poll_interval_s=0.05,
    outage_allowed=True,
)
RODE_BADLY = replace(
    KILLED, name="should have ridden it out", verdict="failed", outage_allowed=False
)


def run_of(*experiments: ExperimentRecord) -> RunRecord:
    return RunRecord(
        kind="chaos", environment="lab", config_file="opsproof.yaml", started_at=START,
        finished_at=START + timedelta(seconds=9), opsproof_version="0.1.0", exit_status=1,
        verdict="failed", checks=[], experiments=list(experiments),
    )  # fmt: skip


def row(markdown: str, name: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(f"| {name} |"))


def test_the_summary_shows_held_outage_and_recovery_apart() -> None:
    markdown = render_markdown(run_of(KILLED, NOT_INJECTED, RODE_BADLY))
    assert "| held | impact after | outage | recovery after revert | ended by |" in markdown
    assert row(markdown, "timed killed") == (
        "| timed killed | SIGKILL process://timed | 1.05 s | 30 ms | 3.08 s | 2.03 s | revert "
        "| passed |"
    )
    never = row(markdown, "never injected")
    assert "not injected" in never and "not recovered" not in never
    assert "3.08 s (none allowed)" in row(markdown, "should have ridden it out")


def test_the_report_draws_a_timeline_for_each_injected_experiment() -> None:
    context = ReportContext("run", load_catalogue(), [], [])
    html = render_html(run_of(KILLED, NOT_INJECTED), context)
    section = html[
        html.index('id="experiments"') : html.index("</table>", html.index('id="experiments"'))
    ]
    assert section.count("<svg") == 1 and "outage ended by opsproof's revert" in section
    assert "not injected: no impact, outage or recovery" in section
    assert "not recovered" not in section


def test_the_timeline_puts_fault_outage_and_recovery_on_one_axis() -> None:
    svg = experiment_timeline(KILLED)
    assert svg is not None
    assert "held 1.05 s" in svg and "3.08 s" in svg and "2.03 s after the revert" in svg
    assert "first degradation observed 30 ms after the injection" in svg
    assert experiment_timeline(NOT_INJECTED) is None
    ongoing = experiment_timeline(replace(KILLED, outage_s=None, recovery_s=None, restored_by=None))
    assert ongoing is not None and "not seen to end" in ongoing and "not recovered" in ongoing


def test_a_hand_made_record_is_not_read_as_not_injected_or_as_no_outage() -> None:
    hand_made = ExperimentRecord(
        name="e", hypothesis="h", fault="f", verdict="passed", recovery_s=4.2
    )
    assert hand_made.injected and not hand_made.observed
    cells = row(render_markdown(run_of(hand_made)), "e")
    assert cells == "| e | f | — | — | — | 4.2 s | — | passed |"


def test_the_record_travels_whole_as_a_junit_and_allure_property() -> None:
    assert EXPERIMENT.validate_json(EXPERIMENT.dump_json(KILLED)) == KILLED


def test_the_summary_shows_what_users_under_load_saw_phase_by_phase() -> None:
    figures = [
        FigureRecord("load.before.requests", 978, "", ">= 10"),
        FigureRecord("load.before.error_rate", 0.0, "", "== 0"),
        FigureRecord("load.before.p95_ms", 89.6, "ms"),
        FigureRecord("load.during.requests", 665),
        FigureRecord("load.during.error_rate", 0.093233, "", "<= 0.3"),
        FigureRecord("load.during.p95_ms", 105.3, "ms"),
        FigureRecord("load.after.requests", 579),
        FigureRecord("load.after.error_rate", 0.0, "", "<= 0.01"),
        FigureRecord("load.after.p95_ms", 142.6, "ms", "< 500"),
        FigureRecord("load.recovering.seconds", 0, "s"),
        FigureRecord("load.recovering.requests", 0),
    ]
    item = CheckRecord(
        id="chaos/test_experiments.py::test_experiment[redis killed under load]",
        verdict="passed", duration_s=15.1, figures=figures,
    )  # fmt: skip
    markdown = render_markdown(replace(run_of(KILLED), checks=[item]))
    start = markdown.index("## Users under load during chaos")
    table = markdown[start : markdown.index("\n\n", start + 40)]
    assert "| experiment | phase | requests | error rate | p95 |" in table
    assert "| during | 665 | 9.3% (limit <= 30.0%) | 105 ms |" in table
    assert "| after | 579 | 0.0% (limit <= 1.0%) | 143 ms (limit < 500 ms) |" in table
    assert "| before | 978 (limit >= 10) | 0.0% (limit == 0.0%) | 90 ms |" in table
    assert "recovering" not in table  # no whole second in it: no row, not a row of zeros


def test_a_summary_without_background_load_has_no_load_table() -> None:
    assert "Users under load" not in render_markdown(run_of(KILLED, NOT_INJECTED))
