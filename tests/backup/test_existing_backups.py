"""Existing backups in a dated directory: freshness against the RPO, integrity, and restore
compared with a stored fingerprint when one was kept."""

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from opsproof.backup.artifacts.checks import freshness, intact, restores
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.dump import back_up as back_up_postgres
from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.snapshot import back_up as back_up_redis
from opsproof.backup.store import FINGERPRINT_SUFFIX, sidecar

TIMEOUT = 60.0
HOUR = 3600.0


def _age(path: Path, seconds: float) -> None:
    moment = time.time() - seconds
    os.utime(path, (moment, moment))


def _redis_backups(redis_master: Callable[[str], Endpoint], store: Path) -> list[Path]:
    source = redis_master("no")
    with source.client() as client:
        client.set("k", "v")
    older = back_up_redis(source, "cache", store, TIMEOUT).rdb
    _age(older, 3 * HOUR)
    older.rename(store / "redis-cache-20260101T000000Z.rdb")
    with source.client() as client:
        client.set("k2", "v2")
    return [
        store / "redis-cache-20260101T000000Z.rdb",
        back_up_redis(source, "cache", store, TIMEOUT).rdb,
    ]


def test_newest_backup_is_fresh_restores_and_matches(
    redis_master: Callable[[str], Endpoint], tmp_path: Path
) -> None:
    _, newest = _redis_backups(redis_master, tmp_path)
    pattern = str(tmp_path / "redis-*.rdb")
    fresh = freshness(pattern, 15 * 60, datetime.now(UTC))
    assert fresh.ok, fresh.reason
    assert newest.name in fresh.reason
    assert intact("redis-rdb", pattern, TIMEOUT).ok
    restored = restores("redis-rdb", pattern, TIMEOUT, required=True)
    assert restored.ok, restored.reason
    assert "2 keys as at the snapshot" in restored.reason


def test_newest_backup_older_than_the_rpo_fails(
    redis_master: Callable[[str], Endpoint], tmp_path: Path
) -> None:
    _, newest = _redis_backups(redis_master, tmp_path)
    _age(newest, 2 * HOUR)
    result = freshness(str(tmp_path / "redis-*.rdb"), 15 * 60, datetime.now(UTC))
    assert not result.ok
    assert f"{newest}: newest backup" in result.reason
    assert "is 2.0h old, older than the 15.0m target" in result.reason


def test_no_backup_at_all_fails(tmp_path: Path) -> None:
    pattern = str(tmp_path / "redis-*.rdb")
    for check in (
        freshness(pattern, HOUR, datetime.now(UTC)),
        intact("redis-rdb", pattern, TIMEOUT),
        restores("redis-rdb", pattern, TIMEOUT, required=False),
    ):
        assert not check.ok
        assert check.reason == f"{pattern}: no backup file matches"


def test_damaged_newest_backup_and_missing_fingerprint_fail(
    redis_master: Callable[[str], Endpoint], tmp_path: Path
) -> None:
    _, newest = _redis_backups(redis_master, tmp_path)
    pattern = str(tmp_path / "redis-*.rdb")
    sidecar(newest, FINGERPRINT_SUFFIX).unlink()
    required = restores("redis-rdb", pattern, TIMEOUT, required=True)
    assert not required.ok
    assert "no stored fingerprint" in required.reason
    assert restores("redis-rdb", pattern, TIMEOUT, required=False).ok
    with newest.open("r+b") as rdb:
        rdb.seek(20)
        rdb.write(b"\xff")
    damaged = intact("redis-rdb", pattern, TIMEOUT)
    assert not damaged.ok
    assert "differs from the recorded" in damaged.reason and "not a valid RDB" in damaged.reason


def test_pg_dump_in_a_dated_directory_restores_to_its_fingerprint(
    shop: Database, tmp_path: Path
) -> None:
    dump = back_up_postgres(shop, "shop", tmp_path, TIMEOUT).dump
    pattern = str(tmp_path / "postgres-*.dump")
    assert intact("pg-dump", pattern, TIMEOUT).ok
    result = restores("pg-dump", pattern, TIMEOUT, required=True)
    assert result.ok, result.reason
    assert result.reason == f"{dump}: restores (compared with its fingerprint)"
