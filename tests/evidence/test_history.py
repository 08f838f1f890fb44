"""History: runs read back from their evidence, trends of key figures, and scheduled runs that
did not happen (a missing nightly chaos run shows, not just the runs that exist)."""

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from opsproof.evidence.history import missed_runs, read_history, series_trends, summarize
from opsproof.evidence.model import FigureRecord, RunRecord, Selection
from opsproof.evidence.records import DrillRecord, ExperimentRecord
from opsproof.evidence.rundir import create_run_dir
from opsproof.evidence.writers import write_json
from opsproof.support.redact import Redactor

DAY = 86400.0


def _nightly(make_run: Callable[..., RunRecord], days: list[float]) -> list[RunRecord]:
    first = make_run(kind="chaos")
    return [
        replace(first, started_at=first.started_at + timedelta(days=d),
                finished_at=first.finished_at + timedelta(days=d), schedule_interval_s=DAY)
        for d in days
    ]  # fmt: skip


def test_missed_nightly_runs_between_and_since_runs(make_run: Callable[..., RunRecord]) -> None:
    runs = _nightly(make_run, [0, 1, 4])  # nights 2 and 3 are missing
    history = [summarize(f"run{n}", run) for n, run in enumerate(runs)]
    assert [(g.after, g.count) for g in missed_runs(history, runs[-1].finished_at)] == [("run1", 2)]
    gaps = missed_runs(history, runs[-1].started_at + timedelta(days=1, hours=1))
    assert [(g.after, g.count) for g in gaps] == [("run1", 2)]
    later = missed_runs(history, runs[-1].started_at + timedelta(days=3, hours=1))
    assert [(g.after, g.count) for g in later] == [("run1", 2), ("run2", 2)]
    assert later[0].due_at == runs[1].started_at + timedelta(days=1)


def test_runs_on_demand_are_never_missed(make_run: Callable[..., RunRecord]) -> None:
    runs = [make_run(), make_run(started=make_run().started_at + timedelta(days=90))]
    history = [summarize(str(n), run) for n, run in enumerate(runs)]
    assert missed_runs(history, runs[-1].finished_at + timedelta(days=365)) == []


def test_trends_follow_duration_rto_recovery_and_p95(
    make_run: Callable[..., RunRecord],
    experiment: Callable[..., ExperimentRecord],
    drill: Callable[..., DrillRecord],
) -> None:
    runs = []
    for n in range(3):
        run = make_run(seconds=10 + n)
        run.checks[0].figures.append(FigureRecord("latency_p95", 100 + n, "ms"))
        runs.append(replace(run, experiments=[experiment(2.0 + n)], drills=[drill(300.0 + n)]))
    trends = series_trends(summarize(f"r{n}", run) for n, run in enumerate(runs))
    assert trends["duration (s)"] == [("r0", 10.0), ("r1", 11.0), ("r2", 12.0)]
    assert trends["RTO postgres (s)"][-1] == ("r2", 302.0)
    assert trends["recovery redis killed (s)"][0] == ("r0", 2.0)
    assert trends["latency_p95 test_certificate_expiry[api] (ms)"][1] == ("r1", 101.0)


def test_history_reads_run_directories_and_skips_broken_ones(
    tmp_path: Path, make_run: Callable[..., RunRecord]
) -> None:
    runs = _nightly(make_run, [0, 1, 2])
    for run in runs:
        run_dir = create_run_dir(tmp_path, run.kind, run.environment, run.started_at)
        write_json(run, run_dir / "evidence.json", Redactor())
    create_run_dir(tmp_path, "chaos", "staging", runs[-1].finished_at)  # died before writing
    (tmp_path / "20261101T000000Z-chaos-staging").mkdir()
    (tmp_path / "20261101T000000Z-chaos-staging" / "evidence.json").write_text('{"old": 1}')
    history = read_history(tmp_path, "chaos-staging")
    assert [h.started_at for h in history] == [r.started_at for r in runs]
    assert len(read_history(tmp_path, "chaos-staging", limit=2)) == 1  # the last two dirs


def test_inconclusive_dry_and_partial_runs_do_not_satisfy_a_schedule(
    make_run: Callable[..., RunRecord],
) -> None:
    runs = _nightly(make_run, [0, 1, 2, 3])
    runs[1] = replace(runs[1], verdict="inconclusive")
    runs[2] = replace(runs[2], verdict="inconclusive", dry_run=True)
    runs[3] = replace(runs[3], selection=Selection(keyword="redis"))
    history = [summarize(f"run{n}", run) for n, run in enumerate(runs)]
    assert [h.counts_toward_schedule for h in history] == [True, False, False, False]
    now = runs[-1].started_at + timedelta(hours=1)
    assert [(g.after, g.count) for g in missed_runs(history, now)] == [
        ("run0", 2)
    ]  # night 3 is in its grace


def test_a_series_of_nothing_but_inconclusive_runs_has_missed_every_night(
    make_run: Callable[..., RunRecord],
) -> None:
    runs = [replace(run, verdict="inconclusive") for run in _nightly(make_run, [0, 1, 2])]
    history = [summarize(f"run{n}", run) for n, run in enumerate(runs)]
    now = runs[-1].started_at + timedelta(days=1, hours=1)
    assert [(g.after, g.count) for g in missed_runs(history, now)] == [("run0", 2)]


def test_schema_2_evidence_is_judged_by_todays_rules(tmp_path: Path) -> None:
    """A v2 chaos run whose every experiment was skipped as inconclusive said PASSED (exit 0);
    read today, it is INCONCLUSIVE and does not count, and its file is left as it was."""
    document = {
        "schema_version": 2, "kind": "chaos", "environment": "lab", "config_file": "x.yaml",
        "started_at": "2026-11-01T02:00:00Z", "finished_at": "2026-11-01T02:01:00Z",
        "opsproof_version": "0.1.0", "exit_status": 0,
        "checks": [{"id": "chaos/t.py::test_experiment[kill]", "outcome": "skipped",
                    "duration_s": 1.0, "reason": "inconclusive: steady state did not hold "
                    "before injection; nothing injected: 503"}],
        "not_applicable": ["chaos/t.py::test_other[none]: not applicable: nothing declared"],
        "experiments": [{"name": "kill", "hypothesis": "h", "fault": "SIGKILL",
                         "verdict": "inconclusive", "reason": "steady state did not hold "
                         "before injection; nothing injected: 503"}],
        "totals": {"passed": 0, "failed": 0, "error": 0, "skipped": 2, "waived": 0},
    }  # fmt: skip
    run_dir = tmp_path / "20261101T020000Z-chaos-lab"
    run_dir.mkdir()
    text = json.dumps(document)
    (run_dir / "evidence.json").write_text(text)
    (summary,) = read_history(tmp_path)
    assert summary.verdict == "inconclusive" and not summary.counts_toward_schedule
    assert summary.totals["inconclusive"] == summary.totals["not_applicable"] == 1
    assert (run_dir / "evidence.json").read_text() == text
