"""Does a restored Redis hold what the fingerprint saw? Counts, then each printed key by name.

Keys whose TTL passed between the snapshot and the comparison are the subtle part: a server
started as a master drops them while loading the RDB, a replica keeps them (hidden from reads).
``expired="kept"`` (a scratch restore, started as a replica) requires them to be held still;
``expired="dropped"`` (a production restore, a master) allows them to be gone.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import redis

from opsproof.backup.redis.client import Endpoint, keyspace, server_time_ms
from opsproof.backup.redis.fingerprint import KeyCounts, RedisFingerprint
from opsproof.backup.redis.keyprints import (
    SCAN_BATCH,
    KeyPrint,
    debug_prints,
    key_name,
    prints_for,
    scanned,
)
from opsproof.probes.result import Figure, Observation

ExpiredKeys = Literal["kept", "dropped"]
NAMES_SHOWN = 10
KeyId = tuple[int, bytes]


@dataclass
class KeyDiff:
    missing: list[str] = field(default_factory=list)
    expired_missing: list[str] = field(default_factory=list)
    """Missing keys whose TTL passed since the snapshot."""
    changed: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def problems(self, compared: str) -> list[str]:
        found = [
            _named(f"{len(names)} {label}{compared}", names)
            for label, names in (
                ("missing", self.missing),
                ("changed", self.changed),
                ("extra", self.extra),
            )
            if names
        ]
        if self.expired_missing:
            label = f"{len(self.expired_missing)} missing whose TTL passed since the snapshot"
            found.append(
                _named(label, self.expired_missing)
                + " (a server started as a master drops such keys while loading; restore into"
                " a server started as a replica to keep them)"
            )
        return found


def _named(label: str, names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:NAMES_SHOWN])
    more = f", … {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return f"{label} ({shown}{more})"


def _batches(keys: list[bytes]) -> Iterable[list[bytes]]:
    for start in range(0, len(keys), SCAN_BATCH):
        yield keys[start : start + SCAN_BATCH]


def _by_db(ids: Iterable[KeyId]) -> dict[int, list[bytes]]:
    grouped: dict[int, list[bytes]] = defaultdict(list)
    for db, key in ids:
        grouped[db].append(key)
    return grouped


def _key_diff(
    fingerprint: RedisFingerprint, endpoint: Endpoint, expired: ExpiredKeys, now_ms: int
) -> KeyDiff:
    expected: dict[KeyId, KeyPrint] = {(p.db, p.key): p for p in fingerprint.keys}
    gone = {
        k for k, p in expected.items() if p.expire_at_ms is not None and p.expire_at_ms <= now_ms
    }
    diff = KeyDiff()
    for db, keys in _by_db(k for k in expected if k not in gone).items():
        with endpoint.client(db) as client:
            for batch in _batches(keys):
                for key, actual in zip(
                    batch, prints_for(fingerprint.method, client, db, batch), strict=True
                ):
                    want = expected[(db, key)]
                    if actual is None:
                        diff.missing.append(want.name)
                    elif (actual.digest, actual.expire_at_ms) != (want.digest, want.expire_at_ms):
                        diff.changed.append(want.name)
    if expired == "kept":
        _held_after_ttl(fingerprint, endpoint, expected, gone, diff)
    if not fingerprint.complete:
        return diff  # a sample cannot tell an extra key; the counts can
    with endpoint.client() as client:
        dbs = {db for db, _ in expected} | set(keyspace(client))
    for db in sorted(dbs):
        with endpoint.client(db) as client:
            for batch in scanned(client):
                diff.extra += [key_name(db, key) for key in batch if (db, key) not in expected]
    return diff


def _held_after_ttl(
    fingerprint: RedisFingerprint,
    endpoint: Endpoint,
    expected: dict[KeyId, KeyPrint],
    gone: set[KeyId],
    diff: KeyDiff,
) -> None:
    """Keys hidden from reads because their TTL passed must still be held. DEBUG DIGEST-VALUE
    sees them (scratch servers allow DEBUG); its digest is comparable to a debug-digest print."""
    for db, keys in _by_db(gone).items():
        with endpoint.client(db) as client:
            for batch in _batches(keys):
                for key, actual in zip(batch, debug_prints(client, db, batch), strict=True):
                    want = expected[(db, key)]
                    if actual is None:
                        diff.expired_missing.append(want.name)
                    elif fingerprint.method == "debug-digest" and actual.digest != want.digest:
                        diff.changed.append(want.name)


def _count_problems(
    fingerprint: RedisFingerprint, held: dict[int, tuple[int, int]], expired: ExpiredKeys
) -> list[str]:
    """Keys and keys-with-TTL per database: equal when expired keys are kept; otherwise at
    most the snapshot's, and short of it by no more than the keys that had a TTL."""
    problems = []
    for db in sorted(set(held) | set(fingerprint.keyspace)):
        keys, expires = held.get(db, (0, 0))
        want = fingerprint.keyspace.get(db, KeyCounts(keys=0, expires=0))
        if expired == "kept" and (keys, expires) != (want.keys, want.expires):
            problems.append(
                f"db{db} holds {keys} keys ({expires} with a TTL), {want.keys} "
                f"({want.expires} with a TTL) at the snapshot"
            )
        elif expired == "dropped" and not want.keys - want.expires <= keys <= want.keys:
            problems.append(
                f"db{db} holds {keys} keys, expected {want.keys - want.expires} to {want.keys} "
                "(keys whose TTL passed may be gone)"
            )
    return problems


def compare(fingerprint: RedisFingerprint, endpoint: Endpoint, expired: ExpiredKeys) -> Observation:
    """Compare the server at ``endpoint`` with ``fingerprint`` (prints taken the same way)."""
    target = endpoint.target
    try:
        with endpoint.client() as client:
            now_ms = server_time_ms(client)
            held = keyspace(client)
        diff = _key_diff(fingerprint, endpoint, expired, now_ms)
    except (redis.RedisError, OSError) as exc:
        return Observation(False, target, f"{target}: comparison failed: {exc}")
    compared = "" if fingerprint.complete else f" of {len(fingerprint.keys)} sampled"
    problems = _count_problems(fingerprint, held, expired) + diff.problems(compared)
    restored = sum(keys for keys, _ in held.values())
    figures = {
        "keys_at_snapshot": Figure(fingerprint.total_keys),
        "keys_restored": Figure(
            restored, target=f"== {fingerprint.total_keys}" if expired == "kept" else None
        ),
        "keys_compared": Figure(len(fingerprint.keys)),
        "fingerprint_method": Figure(fingerprint.method),
    }
    snapshot = fingerprint.taken_at.isoformat(timespec="seconds")
    if problems:
        reason = f"{target}: restored data differs from the snapshot of {snapshot}: "
        return Observation(False, target, reason + "; ".join(problems), figures)
    scope = "every key" if fingerprint.complete else f"{len(fingerprint.keys)} sampled keys"
    reason = (
        f"{target}: {restored} keys as at the snapshot of {snapshot}; {scope} identical "
        f"({fingerprint.method})"
    )
    return Observation(True, target, reason, figures)
