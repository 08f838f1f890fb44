"""Acknowledged writes during a drill, the yardstick for the RPO.

A writer thread makes one write to each system every ``interval`` (through the service's API,
or straight into Redis and PostgreSQL) and records when each was acknowledged. After the
restore, the newest acknowledged write that came back, against the last one acknowledged
before the disaster, is the data-loss window.
"""

import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import httpx
import psycopg
import redis
from psycopg import sql

from opsproof.backup.postgres.database import Database
from opsproof.backup.redis.client import Endpoint
from opsproof.errors import BackupError

JOB = {"dsl": "size 8 8\nrect 0 0 8 8 #2a9d8f"}
MARKER_TTL_S = 86400
REQUEST_TIMEOUT = 2.0
MARKER_TABLE = "opsproof_drill_writes"
"""The table a drill writes its rows to when it writes straight into PostgreSQL."""

Write = Callable[[int], str | None]
"""Make write number ``n``; its id once acknowledged, None when it was not."""


class Sink(Protocol):
    """Where one system's writes go."""

    @property
    def system(self) -> str: ...

    def open(self) -> AbstractContextManager[Write]:
        """Connections for the writer thread's life; yields the write function."""
        ...


@dataclass(frozen=True)
class Ack:
    ident: str
    """A job id or row id (postgres) or a marker key (redis)."""
    at: datetime


@dataclass
class WriteLog:
    acks: dict[str, list[Ack]] = field(default_factory=dict)
    """System → its acknowledged writes, oldest first."""
    failures: int = 0
    """Writes that were not acknowledged (they do not count against the RPO)."""

    def of(self, system: str) -> list[Ack]:
        return self.acks.setdefault(system, [])


@dataclass(frozen=True)
class RecoveryPoint:
    """What a restore brought back of one system's acknowledged writes."""

    acknowledged: int
    restored: int
    last_acknowledged: datetime | None
    newest_restored: datetime | None
    missing_before: list[str]
    """Writes acknowledged before the backup point that did not come back: data the backup
    should have held."""

    @property
    def rpo_s(self) -> float | None:
        if self.last_acknowledged is None or self.newest_restored is None:
            return None
        return max(0.0, (self.last_acknowledged - self.newest_restored).total_seconds())


def recovery_point(acks: list[Ack], present: set[str], backup_at: datetime) -> RecoveryPoint:
    back = [ack for ack in acks if ack.ident in present]
    return RecoveryPoint(
        acknowledged=len(acks),
        restored=len(back),
        last_acknowledged=acks[-1].at if acks else None,
        newest_restored=back[-1].at if back else None,
        missing_before=[a.ident for a in acks if a.at < backup_at and a.ident not in present],
    )


@dataclass(frozen=True)
class ApiJobs:
    """A job submitted through the reference service's API (a row in its jobs table)."""

    api_url: str
    ca_file: str
    system: str = "postgres"

    @contextmanager
    def open(self) -> Iterator[Write]:
        tls = ssl.create_default_context(cafile=self.ca_file)
        with httpx.Client(
            base_url=self.api_url, verify=tls, timeout=REQUEST_TIMEOUT, trust_env=False
        ) as api:

            def write(_: int) -> str | None:
                try:
                    answer = api.post("/api/jobs", json=JOB)
                except httpx.HTTPError:
                    return None
                return str(answer.json()["id"]) if answer.status_code == 202 else None

            yield write


@dataclass(frozen=True)
class RedisMarkers:
    """A marker key per write, expiring after a day."""

    endpoint: Endpoint
    prefix: str
    system: str = "redis"

    @property
    def pattern(self) -> str:
        return self.prefix + "*"

    @contextmanager
    def open(self) -> Iterator[Write]:
        with self.endpoint.client() as cache:

            def write(sequence: int) -> str | None:
                key = f"{self.prefix}{sequence:06d}"
                try:
                    cache.set(key, datetime.now(UTC).isoformat(), ex=MARKER_TTL_S)
                except (redis.RedisError, OSError):
                    return None
                return key

            yield write


@dataclass(frozen=True)
class PostgresRows:
    """A row per write in ``MARKER_TABLE`` of the service's own database."""

    database: Database
    run_id: str
    system: str = "postgres"

    def create_table(self) -> None:
        """Before the backup, so the table is in it; BackupError when the role may not."""
        statement = sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (id text PRIMARY KEY, at timestamptz NOT NULL)"
        ).format(sql.Identifier(MARKER_TABLE))
        try:
            with self.database.connect() as conn:
                conn.execute(statement)
        except psycopg.Error as exc:
            raise BackupError(
                f"{self.database.target}: cannot create the drill's table {MARKER_TABLE}: "
                f"{str(exc).strip()}"
            ) from None

    @contextmanager
    def open(self) -> Iterator[Write]:
        insert = sql.SQL("INSERT INTO {} (id, at) VALUES (%s, now())").format(
            sql.Identifier(MARKER_TABLE)
        )
        connection: list[psycopg.Connection[tuple[object, ...]]] = []

        def write(sequence: int) -> str | None:
            ident = f"{self.run_id}-{sequence:06d}"
            try:
                if not connection:
                    connection.append(self.database.connect())
                connection[0].execute(insert, (ident,))
            except psycopg.Error:
                for conn in connection:
                    conn.close()
                connection.clear()  # connect again at the next write
                return None
            return ident

        try:
            yield write
        finally:
            for conn in connection:
                conn.close()

    def present(self, database: Database, acks: list[Ack]) -> set[str]:
        """The acknowledged rows found in ``database`` (the restored one)."""
        query = sql.SQL("SELECT id FROM {} WHERE id = ANY(%s)").format(sql.Identifier(MARKER_TABLE))
        try:
            with database.connect() as conn:
                rows = conn.execute(query, ([a.ident for a in acks],)).fetchall()
        except psycopg.Error as exc:
            raise BackupError(f"{database.target}: cannot read the drill's rows: {exc}") from None
        return {str(row[0]) for row in rows}


class Writer(threading.Thread):
    """Writes to every sink until ``stop()``; every call bounded by ``REQUEST_TIMEOUT``."""

    def __init__(self, sinks: list[Sink], interval: float = 0.1) -> None:
        super().__init__(name="opsproof-drill-writer", daemon=True)
        self.log = WriteLog()
        self._sinks = sinks
        self._interval = interval
        self._stopping = threading.Event()

    def run(self) -> None:
        with ExitStack() as stack:
            writes = [(s.system, stack.enter_context(s.open())) for s in self._sinks]
            sequence = 0
            # Event.wait paces the writes; it is not synchronisation (stop() ends it at once).
            while not self._stopping.wait(self._interval):
                sequence += 1
                for system, write in writes:
                    ident = write(sequence)
                    if ident is None:
                        self.log.failures += 1
                    else:
                        self.log.of(system).append(Ack(ident, datetime.now(UTC)))

    def acknowledged_since(self, moment: datetime) -> int:
        """The fewest writes any system had acknowledged after ``moment``."""
        systems = [s.system for s in self._sinks]
        counts = [sum(1 for a in list(self.log.of(s)) if a.at > moment) for s in systems]
        return min(counts, default=0)

    def stop(self, timeout: float) -> None:
        """Stop writing; harmless when never started (the drill's steady state failed)."""
        self._stopping.set()
        if self.ident is not None:
            self.join(timeout)

    def wait_for_acks_after(self, moment: datetime, count: int, timeout: float) -> None:
        """Until every system acknowledged ``count`` writes after ``moment`` (writes the
        backup missed), or ``timeout``: then the drill goes on with what it has."""
        deadline = time.monotonic() + timeout
        while self.acknowledged_since(moment) < count and time.monotonic() < deadline:
            time.sleep(self._interval / 2)
