"""What a Redis dataset looked like at the snapshot point, and how to take that picture.

Exact key and TTL counts per database, and a print of every key (keyspaces up to
``KEY_LIST_LIMIT``) or of a random sample of ``SAMPLE_SIZE`` keys (larger ones). Prints come
from DEBUG DIGEST-VALUE where the server allows DEBUG, else from reading and hashing each value
(the documented fallback: DEBUG is off by default in Redis 7 and on managed services).

Why not the whole-dataset DEBUG DIGEST: it costs about 10 µs per key, so 1M keys would hold
writes for 10 s at backup time and take ten times the RDB load itself at every verification.
The RDB's own CRC64 (redis-check-rdb) and sha256 guard every byte; the counts and prints
prove the restore holds *this* snapshot's data, with no key dropped on the way.
"""

import math
from datetime import datetime

import redis
from pydantic import AwareDatetime, BaseModel, ConfigDict

from opsproof.backup.redis.client import Endpoint, keyspace, server_time_ms
from opsproof.backup.redis.keyprints import KeyPrint, Method, prints_for, scanned

KEY_LIST_LIMIT = 5_000
"""Up to this many keys every key is printed, so a difference names every key involved."""
SAMPLE_SIZE = 2_000
"""Random keys printed for larger keyspaces (a brief pause, a cheap verification)."""


class KeyCounts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    keys: int
    expires: int


class RedisFingerprint(BaseModel):
    """A dataset at one instant; stored beside the RDB as ``….rdb.fingerprint.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Method
    taken_at: AwareDatetime
    server_time_ms: int
    server_version: str
    keyspace: dict[int, KeyCounts]
    keys: list[KeyPrint]
    complete: bool
    """True: ``keys`` is every key; False: a random sample of them."""

    @property
    def total_keys(self) -> int:
        return sum(counts.keys for counts in self.keyspace.values())


def _every_key(endpoint: Endpoint, method: Method, dbs: list[int]) -> list[KeyPrint]:
    found: list[KeyPrint] = []
    for db in dbs:
        with endpoint.client(db) as client:
            for batch in scanned(client):
                found += [p for p in prints_for(method, client, db, batch) if p is not None]
    return found


def _random_keys(client: redis.Redis, count: int) -> list[bytes]:
    pipe = client.pipeline(transaction=False)
    for _ in range(count):
        pipe.randomkey()
    return sorted({key for key in pipe.execute() if key is not None})


def _sample(
    endpoint: Endpoint, method: Method, counts: dict[int, tuple[int, int]], total: int
) -> list[KeyPrint]:
    """``SAMPLE_SIZE`` random keys (fewer after duplicates), spread over the databases by size."""
    found: list[KeyPrint] = []
    for db, (keys, _) in counts.items():
        with endpoint.client(db) as client:
            chosen = _random_keys(client, math.ceil(SAMPLE_SIZE * keys / total))
            found += [p for p in prints_for(method, client, db, chosen) if p is not None]
    return found


def capture(endpoint: Endpoint, method: Method, taken_at: datetime) -> RedisFingerprint:
    """Fingerprint the server at ``endpoint``. Call it while writes are paused, or it
    describes no single instant."""
    with endpoint.client() as main:
        now = server_time_ms(main)
        version = str(main.info("server")["redis_version"])
        counts = keyspace(main)
    total = sum(keys for keys, _ in counts.values())
    complete = total <= KEY_LIST_LIMIT
    prints = (
        _every_key(endpoint, method, sorted(counts))
        if complete
        else _sample(endpoint, method, counts, total)
    )
    return RedisFingerprint(
        method=method,
        taken_at=taken_at,
        server_time_ms=now,
        server_version=version,
        keyspace={db: KeyCounts(keys=k, expires=e) for db, (k, e) in sorted(counts.items())},
        keys=prints,
        complete=complete,
    )
