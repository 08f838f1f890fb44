"""History: runs read back from their evidence, trends of key figures, and scheduled runs that
did not happen (a missing nightly chaos run shows, not just the runs that exist)."""

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from opsproof.evidence.history import missed_runs, read_history, series_trends, summarize
from opsproof.evidence.model import FigureRecord, RunRecord
from opsproof.evidence.records import DrillRecord, ExperimentRecord
from opsproof.evidence.redact import Redactor
from opsproof.evidence.rundir import create_run_dir
from opsproof.evidence.writers import write_json

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
