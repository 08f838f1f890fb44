"""The DR drill against a deployment opsproof did not start: it passes with RTO and RPO; a
restore killed halfway, or a runner killed mid-drill, leaves the original data in place and
every acknowledged write in it."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import redis

from opsproof.faults.data_inverse import PRIVATE_PREFIX
from opsproof.faults.ledger import Ledger, ledger_path
from tests.drill.foreign import ROWS, AckedWrites, Foreign, kill, restoring, run_dr, wait_for
from tests.project import PROJECT_ROOT

RUN_TIMEOUT = 300.0
BULK_ROWS = 150_000
"""Enough rows that pg_restore runs long enough to be caught in the act."""
WRITTEN = "writes acknowledged before the backup are restored"


def _evidence(foreign: Foreign) -> dict[str, Any]:
    [run_dir] = (foreign.root / "reports").iterdir()
    evidence: dict[str, Any] = json.loads((run_dir / "evidence.json").read_text())
    assert (run_dir / "report.pdf").stat().st_size > 0
    return evidence


def _seeds_present(foreign: Foreign) -> None:
    with psycopg.connect(foreign.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM items WHERE id LIKE 'seed-%'").fetchone()
    assert row == (ROWS,)
    with redis.Redis.from_url(foreign.redis_url) as client:
        assert client.exists(*[f"seed:{n}" for n in range(ROWS)]) == ROWS


def _asides(foreign: Foreign) -> list[Path]:
    return [
        *foreign.pg_data.parent.glob("data.opsproof-aside-*"),
        *foreign.root.glob("redis-data.opsproof-aside-*"),
    ]


def _bulk(foreign: Foreign) -> None:
    with psycopg.connect(foreign.dsn) as conn:
        conn.execute(
            "INSERT INTO items SELECT 'bulk-' || g, repeat(md5(g::text), 10) "
            f"FROM generate_series(1, {BULK_ROWS}) g"
        )


@pytest.mark.parametrize("foreign", ["rdb", "appendonly"], indirect=True)
def test_the_drill_passes_on_a_deployment_started_by_hand(foreign: Foreign) -> None:
    """With an append-only Redis too: it loads its AOF, not the RDB, so the backup becomes
    the AOF's base (placed as an RDB only, the server came back empty)."""
    done = subprocess.run(
        run_dr(foreign, foreign.config()), capture_output=True, text=True,
        timeout=RUN_TIMEOUT, cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    [drill] = _evidence(foreign)["drills"]
    assert [phase["name"] for phase in drill["phases"]] == [
        "preconditions", "steady state", "back up cache", "back up db",
        "verify backups on scratch servers", "disaster", "restore cache", "verify cache",
        "restore db", "verify db", "start db", "start services", "service healthy",
        "original data kept aside",
    ]  # fmt: skip
    objectives = {o["system"]: o for o in drill["objectives"]}
    assert set(objectives) == {"cache", "db", "service"}
    for objective in objectives.values():
        assert 0 < objective["rto_achieved_s"] < 120
        assert 0 < objective["rpo_achieved_s"] < 60  # the writes made after the backup
    written = {r["system"]: r["actual"] for r in drill["integrity"] if r["check"] == WRITTEN}
    for actual in written.values():  # "12 of 17 acknowledged writes restored; all from ..."
        restored, acknowledged = (int(n) for n in actual.split(" acknowledged")[0].split(" of "))
        assert 0 < restored < acknowledged, actual
    assert all(result["passed"] for result in drill["integrity"])
    assert foreign.healthy()
    _seeds_present(foreign)
    assert len(_asides(foreign)) == 2  # the original data, never deleted
    assert not Ledger(ledger_path(foreign.state_dir)).open_faults()


@pytest.mark.parametrize(
    "sabotage", ["pg_restore killed halfway", "dump corrupted after its check"]
)
def test_a_failed_restore_puts_the_original_data_back(foreign: Foreign, sabotage: str) -> None:
    killed = sabotage == "pg_restore killed halfway"
    if killed:
        _bulk(foreign)
    writes = AckedWrites(foreign).start()
    run = subprocess.Popen(
        run_dr(foreign, foreign.config()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, cwd=PROJECT_ROOT,
    )  # fmt: skip
    ledger = Ledger(ledger_path(foreign.state_dir))
    wait_for(ledger.open_faults, RUN_TIMEOUT, "the drill's ledger entry")
    writes.stop()  # clients stop with the services (a restore compared while written to differs)
    if killed:
        wait_for(lambda: kill(restoring(foreign.store)), RUN_TIMEOUT, "pg_restore killed")
    else:
        [dump] = foreign.store.glob("postgres-db-*.dump")
        with dump.open("r+b") as out:
            out.truncate(dump.stat().st_size // 2)
    output, _ = run.communicate(timeout=RUN_TIMEOUT)
    assert run.returncode == 1, output
    assert "rolled back: original data in place" in output
    [drill] = _evidence(foreign)["drills"]
    outcomes = {phase["name"]: phase["outcome"] for phase in drill["phases"]}
    assert outcomes["restore db"] == "failed"
    if not killed:
        assert "changed since it was verified (sha256 differs)" in output
    assert outcomes["roll back"] == outcomes["healthy after roll back"] == "ok"
    assert "rolled back" in drill["issues"][0]["description"]
    [run_dir] = (foreign.root / "reports").iterdir()
    protocol = subprocess.run(
        ["pdftotext", "-layout", str(run_dir / "report.pdf"), "-"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "rolled back: original data put back, services healthy" in " ".join(protocol.split())
    assert foreign.healthy()
    assert writes.missing() == ([], [])
    assert len(writes.postgres) > 0 and len(writes.redis) > 0
    _seeds_present(foreign)
    assert not _asides(foreign)
    assert not ledger.open_faults()


def _watchdog_of(ledger: Path) -> psutil.Process:
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "opsproof.faults.watchdog" in cmdline and str(ledger) in cmdline:
            return proc
    raise AssertionError("no watchdog running")


@pytest.mark.parametrize("undoer", ["watchdog", "opsproof revert"])
def test_the_data_is_put_back_after_the_runner_is_killed(foreign: Foreign, undoer: str) -> None:
    """SIGKILL mid-restore: the watchdog puts the data back; with the watchdog gone too,
    ``opsproof revert`` does. Every write acknowledged before the disaster is there."""
    _bulk(foreign)
    writes = AckedWrites(foreign).start()
    private = foreign.root / "tmp"  # the drill's own temporary files, apart from any other run's
    private.mkdir()
    run = subprocess.Popen(
        run_dr(foreign, foreign.config()), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, cwd=PROJECT_ROOT, start_new_session=True,
        env=os.environ | {"TMPDIR": str(private)},
    )  # fmt: skip
    ledger = Ledger(ledger_path(foreign.state_dir))
    wait_for(ledger.open_faults, RUN_TIMEOUT, "the drill's ledger entry")
    writes.stop()
    wait_for(lambda: restoring(foreign.store), RUN_TIMEOUT, "pg_restore")
    if undoer == "opsproof revert":
        _watchdog_of(ledger.path).kill()
    os.killpg(run.pid, signal.SIGKILL)
    run.communicate(timeout=30)
    if undoer == "opsproof revert":
        assert len(_asides(foreign)) == 2 and not foreign.healthy()
        revert = subprocess.run(
            [sys.executable, "-m", "opsproof.cli", "revert", "--state-dir",
             str(foreign.state_dir)],
            capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=PROJECT_ROOT, check=False,
        )  # fmt: skip
        assert revert.returncode == 0, revert.stdout + revert.stderr
        assert "move aside the data of cache" in revert.stdout and "reverted" in revert.stdout
    wait_for(lambda: not ledger.open_faults(), RUN_TIMEOUT, "the undo done")
    wait_for(foreign.healthy, 60, "the app healthy again")
    assert {r.by for r in ledger.records() if r.record == "revert"} == {undoer}
    assert not list(private.glob(f"{PRIVATE_PREFIX}*"))  # the restore server's socket dir
    assert writes.missing() == ([], [])
    _seeds_present(foreign)
    assert not _asides(foreign)
