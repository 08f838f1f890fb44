"""Acknowledged writes during a drill, the yardstick for the RPO.

A writer thread submits a job through the API (a row in PostgreSQL) and sets a marker key in
Redis every ``interval``, recording when each was acknowledged. After the restore, the newest
acknowledged write that came back, against the last one acknowledged before the disaster, is
the data-loss window.
"""

import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import redis

from opsproof.backup.redis.client import Endpoint

JOB = {"dsl": "size 8 8\nrect 0 0 8 8 #2a9d8f"}
MARKER_TTL_S = 86400
REQUEST_TIMEOUT = 2.0


@dataclass(frozen=True)
class Ack:
    ident: str
    """A job id (postgres) or a marker key (redis)."""
    at: datetime


@dataclass
class WriteLog:
    postgres: list[Ack] = field(default_factory=list)
    redis: list[Ack] = field(default_factory=list)
    failures: int = 0
    """Writes that were not acknowledged (they do not count against the RPO)."""


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


class Writer(threading.Thread):
    """Writes until ``stop()``; every call bounded by ``REQUEST_TIMEOUT``."""

    def __init__(
        self, api_url: str, ca_file: str, redis: Endpoint, run_id: str, interval: float = 0.1
    ) -> None:
        super().__init__(name="opsproof-drill-writer", daemon=True)
        self.log = WriteLog()
        self._api_url = api_url
        self._tls = ssl.create_default_context(cafile=ca_file)
        self._redis = redis
        self._prefix = f"opsproof:drill:{run_id}:"
        self._interval = interval
        self._stopping = threading.Event()

    @property
    def marker_pattern(self) -> str:
        return self._prefix + "*"

    def run(self) -> None:
        with (
            httpx.Client(
                base_url=self._api_url, verify=self._tls, timeout=REQUEST_TIMEOUT, trust_env=False
            ) as api,
            self._redis.client() as cache,
        ):
            sequence = 0
            # Event.wait paces the writes; it is not synchronisation (stop() ends it at once).
            while not self._stopping.wait(self._interval):
                sequence += 1
                self._write_job(api)
                self._write_marker(cache, f"{self._prefix}{sequence:06d}")

    def _write_job(self, api: httpx.Client) -> None:
        try:
            answer = api.post("/api/jobs", json=JOB)
        except httpx.HTTPError:
            self.log.failures += 1
            return
        if answer.status_code == 202:
            self.log.postgres.append(Ack(str(answer.json()["id"]), datetime.now(UTC)))
        else:
            self.log.failures += 1

    def _write_marker(self, cache: redis.Redis, key: str) -> None:
        try:
            cache.set(key, datetime.now(UTC).isoformat(), ex=MARKER_TTL_S)
        except (redis.RedisError, OSError):
            self.log.failures += 1
            return
        self.log.redis.append(Ack(key, datetime.now(UTC)))

    def acknowledged_since(self, moment: datetime) -> int:
        return sum(1 for ack in list(self.log.postgres) if ack.at > moment)

    def stop(self, timeout: float) -> None:
        """Stop writing; harmless when never started (the drill's steady state failed)."""
        self._stopping.set()
        if self.ident is not None:
            self.join(timeout)

    def wait_for_acks_after(self, moment: datetime, count: int, timeout: float) -> None:
        """Until ``count`` jobs were acknowledged after ``moment`` (writes the backup missed),
        or ``timeout``: then the drill goes on with what it has."""
        deadline = time.monotonic() + timeout
        while self.acknowledged_since(moment) < count and time.monotonic() < deadline:
            time.sleep(self._interval / 2)
