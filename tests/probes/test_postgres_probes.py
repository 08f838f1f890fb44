"""PostgreSQL probes against a real primary and its streaming replica."""

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from opsproof.config.models import PostgresService
from opsproof.probes.postgres import connect, connections, long_queries, replication_lag
from opsproof.probes.result import Observation


def svc(dsn: str, **fields: Any) -> PostgresService:
    return PostgresService.model_validate({"kind": "postgres", "dsn": dsn, "timeout": 2, **fields})


def until(probe: Any, ok: bool, timeout: float = 10.0) -> Observation:
    """Poll ``probe`` until its verdict is ``ok`` (a test wants to see failures appear, too)."""
    deadline = time.monotonic() + timeout
    while (seen := probe()).ok != ok and time.monotonic() < deadline:
        time.sleep(0.05)
    result: Observation = seen
    return result


@pytest.fixture
def stopped_replica(postgres: Any) -> Iterator[str]:
    """The replica, stopped for one test and started again after it."""
    postgres.replica.stop()
    yield postgres.replica.dsn
    postgres.replica.start()


def test_connect_reports_the_server_version(postgres: Any) -> None:
    seen = connect(svc(postgres.primary.dsn))

    assert seen.ok, seen.reason
    assert str(seen.figures["server_version"].value).startswith("15.")
    assert seen.target == postgres.primary.dsn


def test_password_never_reaches_the_target(postgres: Any) -> None:
    dsn = postgres.primary.dsn.replace("postgres@", "postgres:hunter2@")

    seen = connect(svc(dsn))

    assert seen.ok, seen.reason  # trust authentication ignores it
    assert seen.target == postgres.primary.dsn


def test_stopped_server_fails_naming_it(stopped_replica: str) -> None:
    seen = connect(svc(stopped_replica))

    assert not seen.ok
    assert seen.reason.startswith(f"{stopped_replica}: connection failed")
    assert "Connection refused" in seen.reason


def test_silent_server_fails_after_the_connect_timeout(hang_server: Any) -> None:
    start = time.monotonic()
    seen = connect(svc(f"postgresql://postgres@127.0.0.1:{hang_server.port}/postgres"))

    assert time.monotonic() - start < 4
    assert not seen.ok
    assert "timeout" in seen.reason


def test_connections_above_the_ratio_fail(postgres: Any) -> None:
    dsn = postgres.primary.dsn
    held = [psycopg.connect(dsn) for _ in range(8)]
    try:
        relaxed = connections(svc(dsn))
        strict = connections(svc(dsn, max_connections_ratio=0.3))
    finally:
        for conn in held:
            conn.close()

    assert relaxed.ok, relaxed.reason
    assert not strict.ok
    assert strict.figures["max_connections"].value == 20
    assert strict.figures["connections"].value >= 9  # type: ignore[operator]
    assert strict.reason.endswith("above the 30% limit")


def test_long_query_is_detected_with_pid_and_text(postgres: Any) -> None:
    dsn = postgres.primary.dsn
    sleeper = psycopg.connect(dsn, autocommit=True)
    pid = sleeper.info.backend_pid
    worker = threading.Thread(target=_sleep_until_cancelled, args=(sleeper,), daemon=True)
    try:
        assert long_queries(svc(dsn)).ok
        worker.start()
        seen = until(lambda: long_queries(svc(dsn, long_query_seconds="300ms")), ok=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_cancel_backend(%s)", (pid,))
        worker.join(timeout=5)
        sleeper.close()

    assert not seen.ok
    assert f"1 queries active longer than 0.3s: pid {pid} (" in seen.reason
    assert seen.reason.endswith("SELECT pg_sleep(30) /* opsproof long query test */")
    assert seen.figures["long_queries"].value == 1


def _sleep_until_cancelled(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(psycopg.errors.QueryCanceled):
        conn.execute("SELECT pg_sleep(30) /* opsproof long query test */")


def _replicated_write(primary: str, replica: str) -> None:
    """Commit a row on the primary and wait until the replica has replayed it."""
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS beat (n serial, at timestamptz)")
        (n,) = conn.execute("INSERT INTO beat (at) VALUES (now()) RETURNING n").fetchone()  # type: ignore[misc]
    deadline = time.monotonic() + 10
    with psycopg.connect(replica, autocommit=True) as standby:
        while not _has_row(standby, n):
            assert time.monotonic() < deadline, "the replica did not replay the write in 10s"
            time.sleep(0.05)


def _has_row(standby: psycopg.Connection[Any], n: int) -> bool:
    try:
        return standby.execute("SELECT 1 FROM beat WHERE n = %s", (n,)).fetchone() is not None
    except psycopg.errors.UndefinedTable:  # the CREATE TABLE is not replayed yet either
        return False


def test_replica_in_sync_passes_and_a_primary_is_not_a_replica(postgres: Any) -> None:
    primary, replica = postgres.primary.dsn, postgres.replica.dsn
    _replicated_write(primary, replica)

    synced = replication_lag(svc(primary), replica)
    not_replica = replication_lag(svc(primary), primary)

    assert synced.ok, synced
    assert synced.figures["replication_lag_s"].value == 0
    assert not not_replica.ok
    assert "expected a replica in recovery, got a primary" in not_replica.reason


def test_paused_replay_shows_up_as_lag(postgres: Any) -> None:
    primary, replica = postgres.primary.dsn, postgres.replica.dsn
    lagging = svc(primary, max_replication_lag="200ms")
    _replicated_write(primary, replica)
    assert replication_lag(lagging, replica).ok
    with psycopg.connect(replica, autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            with psycopg.connect(primary, autocommit=True) as conn:
                conn.execute("INSERT INTO beat (at) VALUES (now())")
            seen = until(lambda: replication_lag(lagging, replica), ok=False)
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")

    assert not seen.ok
    assert seen.figures["replication_lag_s"].value > 0.2  # type: ignore[operator]
    assert seen.reason.endswith("above the 0.2s limit")
