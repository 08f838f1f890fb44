"""Redis backups against real servers: fingerprint at the snapshot, RDB integrity, scratch
restore, and the negative controls (a flipped byte, keys a master drops, changed keys)."""

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from opsproof.backup.redis import fingerprint as fingerprint_module
from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.compare import compare
from opsproof.backup.redis.fingerprint import RedisFingerprint
from opsproof.backup.redis.integrity import check_rdb, checksum_matches
from opsproof.backup.redis.scratch import scratch_redis
from opsproof.backup.redis.snapshot import back_up
from opsproof.backup.store import read_fingerprint

TIMEOUT = 30.0
METHODS = {"local": "debug-digest", "no": "content-sha256"}


def _fill(endpoint: Endpoint) -> None:
    with endpoint.client() as client:
        client.set("greeting", "hello")
        client.hset("user:1", mapping={"name": "Ada", "plan": "pro"})
        client.rpush("queue", "a", "b", "c")
        client.sadd("tags", "x", "y")
        client.zadd("scores", {"ada": 3.5, "bob": 1.0})
        client.xadd("audit", {"event": "login"})
        client.set(b"bin:\xff\x00", b"\x00\x01")
        client.set("session:1", "token", ex=3600)
    with endpoint.client(2) as other:
        other.set("elsewhere", "db2")


@pytest.mark.parametrize("debug", sorted(METHODS))
def test_backup_restores_identically(
    debug: str, redis_master: Callable[[str], Endpoint], tmp_path: Path
) -> None:
    source = redis_master(debug)
    _fill(source)
    backup = back_up(source, "cache", tmp_path / "store", TIMEOUT)
    assert backup.fingerprint.method == METHODS[debug]
    assert backup.fingerprint.total_keys == 9
    assert read_fingerprint(backup.rdb, RedisFingerprint) == backup.fingerprint
    assert checksum_matches(backup.rdb).ok
    assert check_rdb(backup.rdb, TIMEOUT).ok
    with scratch_redis(backup.rdb, TIMEOUT) as scratch:
        result = compare(backup.fingerprint, scratch.endpoint, "kept")
    assert result.ok, result.reason
    assert "9 keys as at the snapshot" in result.reason and "every key identical" in result.reason


def test_flipped_byte_in_an_rdb_fails_integrity(
    redis_master: Callable[[str], Endpoint], tmp_path: Path
) -> None:
    source = redis_master("no")
    _fill(source)
    backup = back_up(source, "cache", tmp_path / "store", TIMEOUT)
    data = bytearray(backup.rdb.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup.rdb.write_bytes(bytes(data))

    recorded = checksum_matches(backup.rdb)
    assert not recorded.ok
    assert "differs from the recorded" in recorded.reason
    checked = check_rdb(backup.rdb, TIMEOUT)
    assert not checked.ok
    assert "not a valid RDB" in checked.reason and "redis-check-rdb failed" in checked.reason


@pytest.mark.parametrize("debug", sorted(METHODS))
def test_keys_whose_ttl_passed_are_dropped_by_a_master_and_kept_by_our_restore(
    debug: str, redis_master: Callable[[str], Endpoint], tmp_path: Path
) -> None:
    source = redis_master(debug)
    _fill(source)
    with source.client() as client:
        client.set("flash:1", "soon gone", px=300)
        client.set("flash:2", "soon gone", px=300)
    backup = back_up(source, "cache", tmp_path / "store", TIMEOUT)
    expiries = [k.expire_at_ms for k in backup.fingerprint.keys or [] if k.key.startswith(b"flash")]
    assert len(expiries) == 2
    deadline = time.monotonic() + 5.0
    while time.time() * 1000 <= max(e or 0 for e in expiries) + 50:  # until both have expired
        assert time.monotonic() < deadline
        time.sleep(0.05)

    with scratch_redis(backup.rdb, TIMEOUT, as_replica=False) as master:
        dropped = compare(backup.fingerprint, master.endpoint, "kept")
    assert not dropped.ok
    assert (
        "2 missing whose TTL passed since the snapshot (db0:flash:1, db0:flash:2)" in dropped.reason
    )
    assert "started as a master" in dropped.reason

    with scratch_redis(backup.rdb, TIMEOUT) as replica:
        kept = compare(backup.fingerprint, replica.endpoint, "kept")
    assert kept.ok, kept.reason


def test_changed_missing_and_extra_keys_are_named(
    redis_master: Callable[[str], Endpoint], tmp_path: Path
) -> None:
    source = redis_master("no")
    _fill(source)
    backup = back_up(source, "cache", tmp_path / "store", TIMEOUT)
    with source.client() as client:
        client.hset("user:1", "plan", "free")
        client.delete("tags")
        client.set("intruder", "1")
    result = compare(backup.fingerprint, source, "dropped")
    assert not result.ok
    assert "1 missing (db0:tags)" in result.reason
    assert "1 changed (db0:user:1)" in result.reason
    assert "1 extra (db0:intruder)" in result.reason


@pytest.mark.parametrize("debug", sorted(METHODS))
def test_large_keyspaces_are_counted_and_sampled(
    debug: str,
    redis_master: Callable[[str], Endpoint],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fingerprint_module, "KEY_LIST_LIMIT", 3)
    monkeypatch.setattr(fingerprint_module, "SAMPLE_SIZE", 200)  # 9 keys: all of them, surely
    source = redis_master(debug)
    _fill(source)
    backup = back_up(source, "cache", tmp_path / "store", TIMEOUT)
    assert not backup.fingerprint.complete
    with scratch_redis(backup.rdb, TIMEOUT) as scratch:
        same = compare(backup.fingerprint, scratch.endpoint, "kept")
    assert same.ok, same.reason
    assert "9 sampled keys identical" in same.reason
    with source.client() as client:
        client.set("greeting", "changed")
        client.delete("tags")
    later = back_up(source, "later", tmp_path / "store", TIMEOUT)
    with scratch_redis(later.rdb, TIMEOUT) as scratch:
        result = compare(backup.fingerprint, scratch.endpoint, "kept")
    assert not result.ok
    assert "db0 holds 7 keys (1 with a TTL), 8 (1 with a TTL) at the snapshot" in result.reason
    assert "1 missing of 9 sampled (db0:tags)" in result.reason
    assert "1 changed of 9 sampled (db0:greeting)" in result.reason
