"""The DR suite on the guest's own Redis and PostgreSQL, declared only in examples/testhost.yaml:
backed up through SSH and the forwarded ports, restored on scratch servers here, compared. And
the remote RDB copy's refusals: over the size limit, unreadable without sudo, a copy that does
not match the host's file."""

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from opsproof.backup.on_host import OnHost
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.dump import back_up as back_up_postgres
from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.remote_rdb import copy_remote_rdb
from opsproof.backup.redis.snapshot import back_up
from opsproof.config.models import HostSpec, SshOptionsSpec
from opsproof.errors import BackupError
from opsproof.support.ports import LOOPBACK
from opsproof.testhost.machine import GuestState
from tests.testhost.example import run_example

KEYS = 500
TABLE = "dr_orders"
GUEST_RDB = Path("/var/lib/redis/dump.rdb")


@pytest.fixture
def guest_redis(guest: GuestState) -> Iterator[redis.Redis]:
    client = redis.Redis(LOOPBACK, guest.ports["redis"], socket_timeout=10)
    yield client
    client.delete(*client.keys("dr:*"))
    client.close()


@pytest.fixture
def guest_data(guest: GuestState, guest_redis: redis.Redis) -> Iterator[None]:
    """Keys of several types (some expiring) and a table with rows, written as a user would
    before a backup; removed afterwards."""
    writes = guest_redis.pipeline()
    for n in range(KEYS):
        writes.set(f"dr:string:{n}", f"value {n}" * 10)
    writes.hset("dr:hash", mapping={f"field{n}": n for n in range(50)})
    writes.rpush("dr:list", *range(100))
    writes.zadd("dr:zset", {f"member{n}": n for n in range(50)})
    writes.set("dr:expiring", "soon", ex=3600)
    writes.execute()
    with psycopg.connect(guest.postgres_dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {TABLE} (id serial PRIMARY KEY, item text NOT NULL)")
        conn.execute(
            f"INSERT INTO {TABLE} (item) SELECT 'item ' || n FROM generate_series(1, 1000) n"
        )
    yield
    with psycopg.connect(guest.postgres_dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _host(guest: GuestState, *, sudo: bool) -> HostSpec:
    ssh = SshOptionsSpec(
        known_hosts=Path(guest.known_hosts), identity_file=Path(guest.identity_file), sudo=sudo
    )
    return HostSpec(url=guest.ssh_url, ssh=ssh)


def _server_version(guest: GuestState) -> str:
    with psycopg.connect(guest.postgres_dsn) as conn:
        row = conn.execute("SELECT current_setting('server_version')").fetchone()
    return str(row[0]) if row else ""


def test_the_example_dr_run_backs_up_and_restores_the_guests_data(
    guest: GuestState, guest_data: None, tmp_path: Path
) -> None:
    done = run_example("dr", guest, tmp_path)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [evidence] = tmp_path.glob("*-dr-testhost/evidence.json")
    checks = {
        check["id"].split("::")[-1]: check for check in json.loads(evidence.read_text())["checks"]
    }
    passed = {name for name, check in checks.items() if check["verdict"] == "passed"}
    assert {
        "test_redis_backup_taken[cache]",
        "test_redis_rdb_intact[cache]",
        "test_redis_restore_matches_fingerprint[cache]",
        "test_postgres_backup_taken[db]",
        "test_postgres_dump_intact[db]",
        "test_postgres_restores[db]",
        f"test_postgres_table_restored[db public.{TABLE}]",
        "test_postgres_schema_restored[db]",
    } <= passed, {name: check["reason"] for name, check in checks.items()}
    redis_figures = _figures(checks["test_redis_backup_taken[cache]"])
    assert redis_figures["keys"] >= KEYS + 4
    copied = f"guest:{GUEST_RDB} (over SSH, sha256 as on the host)"
    assert redis_figures["rdb_copied_from"] == copied
    assert redis_figures["rdb_bytes"] > 0
    pg_figures = _figures(checks["test_postgres_backup_taken[db]"])
    assert pg_figures["server_version"] == _server_version(guest).split(" ")[0]
    assert pg_figures["dumped_by"] == "the pg_dump of host guest"
    assert pg_figures["rows"] >= 1000


def _figures(check: dict[str, Any]) -> dict[str, Any]:
    return {figure["name"]: figure["value"] for figure in check["figures"]}


def test_an_rdb_over_the_size_limit_is_refused_before_the_copy(
    guest: GuestState, guest_redis: redis.Redis, tmp_path: Path
) -> None:
    guest_redis.set("dr:string:0", os.urandom(4096))  # random: the RDB's LZF cannot shrink it
    endpoint = Endpoint(f"redis://{LOOPBACK}:{guest.ports['redis']}/0", 10.0)
    small = OnHost("guest", _host(guest, sudo=True), max_size=1024)

    with pytest.raises(BackupError) as refused:
        back_up(endpoint, "cache", tmp_path, 60.0, remote=small)

    message = str(refused.value)
    assert f"its RDB guest:{GUEST_RDB} is " in message
    assert "over the limit of 1024 for a copy over SSH" in message
    assert "raise backup.sources.cache.max_copy_size" in message
    assert not list(tmp_path.iterdir())


def test_an_rdb_the_login_cannot_read_names_sudo(guest: GuestState, tmp_path: Path) -> None:
    remote = OnHost("guest", _host(guest, sudo=False), max_size=1 << 30)

    with pytest.raises(BackupError) as refused:
        copy_remote_rdb(remote, GUEST_RDB, tmp_path / "copy.rdb", 1e12, "cache", "redis://x")

    assert "Permission denied" in str(refused.value)
    assert "or ssh.sudo: true on host guest" in str(refused.value)
    assert not (tmp_path / "copy.rdb").exists()


def test_a_copy_that_does_not_match_the_host_file_is_deleted(
    guest: GuestState, tmp_path: Path
) -> None:
    # A file that is new on every read, as an RDB replaced between the copy and its hash is.
    changing = Path("/proc/sys/kernel/random/uuid")
    remote = OnHost("guest", _host(guest, sudo=True), max_size=1 << 30)

    with pytest.raises(BackupError) as torn:
        copy_remote_rdb(remote, changing, tmp_path / "copy.rdb", 1e12, "cache", "redis://x")

    assert f"its RDB guest:{changing}: the copy does not match the file there" in str(torn.value)
    assert "cut short or replaced while it was copied, so it is deleted" in str(torn.value)
    assert not (tmp_path / "copy.rdb").exists()


def test_a_dump_on_the_host_over_the_size_limit_is_refused_and_deleted(
    guest: GuestState, guest_data: None, tmp_path: Path
) -> None:
    database = Database(guest.postgres_dsn, 10.0)
    tiny = OnHost("guest", _host(guest, sudo=True), max_size=100)

    with pytest.raises(BackupError) as refused:
        back_up_postgres(database, "db", tmp_path, 120.0, tiny)

    message = str(refused.value)
    assert "pg_dump on host guest: the archive is larger than 100 bytes" in message
    assert "raise the source's max_copy_size" in message
    assert not list(tmp_path.glob("*.dump"))
