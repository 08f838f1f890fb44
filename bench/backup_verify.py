"""Backup verification (restore + compare) against the bare restore, on a generated dataset.

    .venv/bin/python bench/backup_verify.py                  # 1M Redis keys, ~1.1 GB PostgreSQL
    .venv/bin/python bench/backup_verify.py --keys 100000 --scale 5 --runs 1   # a quick look

Builds the dataset on servers of its own (a redis-server filled through ``redis-cli --pipe``, a
scratch PostgreSQL cluster filled by ``pgbench -i``), backs both up with opsproof, then times,
in the same run and alternating: the bare restore (redis-server loading the RDB; pg_restore)
and the verification (the same restore, plus the comparison with the backup's fingerprint and,
for PostgreSQL, roles, schema, grants and pg_amcheck). Prints medians, the ratio, and each
verification against its own restore (paired, so immune to a neighbour's load between runs);
the goal is verification <= 1.5 x the bare restore. Several minutes, ~4 GB of disk.
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from opsproof.backup.postgres.amcheck import amcheck
from opsproof.backup.postgres.compare import every_check
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.dump import PostgresBackup
from opsproof.backup.postgres.dump import back_up as back_up_postgres
from opsproof.backup.postgres.restore import restore_dump, restore_globals
from opsproof.backup.postgres.scratch import scratch_cluster
from opsproof.backup.postgres.verify import fingerprint_of
from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.compare import compare
from opsproof.backup.redis.scratch import scratch_redis
from opsproof.backup.redis.snapshot import RedisBackup
from opsproof.backup.redis.snapshot import back_up as back_up_redis
from opsproof.backup.tools import postgres_tool, redis_tool, run
from opsproof.support.ports import free_ports

STEP_TIMEOUT = 3600.0
GENERATE_TIMEOUT = 1800.0


def _resp(*parts: str) -> bytes:
    """One command in the Redis protocol, as ``redis-cli --pipe`` reads it."""
    encoded = [part.encode() for part in parts]
    return b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in encoded)


def _redis_commands(keys: int) -> Iterator[bytes]:
    """Mostly strings (a tenth with a day's TTL), and hashes, lists and sets: ``keys`` keys."""
    for n in range(keys):
        kind = n % 20
        if kind == 0:
            yield _resp("HSET", f"user:{n}", "name", f"user {n}", "plan", "pro", "seen", str(n))
        elif kind == 1:
            yield _resp("RPUSH", f"queue:{n}", "a", "b", str(n))
        elif kind == 2:
            yield _resp("SADD", f"tags:{n}", "x", "y", str(n))
        elif kind == 3:
            yield _resp("SET", f"session:{n}", f"token-{n:032d}", "EX", "86400")
        else:
            yield _resp("SET", f"cache:{n}", f"value-{n:040d}")


@contextmanager
def _redis_source(workdir: Path, keys: int) -> Iterator[Endpoint]:
    (port,) = free_ports(1)
    command = [
        redis_tool("redis-server"),
        *("--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir)),
        *("--save", "", "--appendonly", "no", "--enable-debug-command", "local"),
    ]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        commands = workdir / "load.resp"
        with commands.open("wb") as out:
            out.writelines(_redis_commands(keys))
        deadline = time.monotonic() + 10
        while (
            subprocess.run(  # until it answers: the pipe below must not meet a refusal
                [redis_tool("redis-cli"), "-p", str(port), "PING"],
                capture_output=True,
                timeout=5,
                check=False,
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)
        pipe = [redis_tool("redis-cli"), "-p", str(port), "--pipe"]
        run(pipe, GENERATE_TIMEOUT, stdin=commands)
        commands.unlink()
        yield Endpoint(f"redis://127.0.0.1:{port}/0", timeout=60.0)
    finally:
        server.terminate()
        server.wait(30)


def _timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Timing:
    """One restore: how long it took, and (verification only) the comparison after it."""

    restore: float
    compare: float = 0.0

    @property
    def total(self) -> float:
        return self.restore + self.compare


def _redis_bare(backup: RedisBackup) -> Timing:
    with scratch_redis(backup.rdb, STEP_TIMEOUT, as_replica=False) as scratch:
        return Timing(scratch.load_s)


def _redis_verify(backup: RedisBackup) -> Timing:
    with scratch_redis(backup.rdb, STEP_TIMEOUT) as scratch:
        started = time.perf_counter()
        result = compare(backup.fingerprint, scratch.endpoint, "kept")
        if not result.ok:
            raise SystemExit(f"redis verification failed: {result.reason}")
        return Timing(scratch.load_s, time.perf_counter() - started)


def _postgres_bare(backup: PostgresBackup) -> Timing:
    with scratch_cluster(STEP_TIMEOUT) as cluster:
        name = backup.fingerprint.database
        return Timing(
            _timed(lambda: restore_dump(backup.dump, cluster.database(), name, STEP_TIMEOUT))
        )


def _postgres_verify(backup: PostgresBackup) -> Timing:
    with scratch_cluster(STEP_TIMEOUT) as cluster:
        server, name = cluster.database(), backup.fingerprint.database

        def restore() -> None:
            restore_globals(backup.globals_sql, server, STEP_TIMEOUT)
            restore_dump(backup.dump, server, name, STEP_TIMEOUT)

        def check() -> None:
            restored = cluster.database(name)
            fingerprint = fingerprint_of(restored, STEP_TIMEOUT, backup.fingerprint)
            checks = every_check(backup.fingerprint, fingerprint)
            checks.append(amcheck(restored, STEP_TIMEOUT))
            failed = [c.reason for c in checks if not c.ok]
            if failed:
                raise SystemExit(f"postgres verification failed: {failed}")

        return Timing(_timed(restore), _timed(check))


def _report(name: str, bare: list[Timing], verified: list[Timing]) -> tuple[float, float]:
    """Print medians; return (verification / bare restore, verification / its own restore)."""
    bare_median = statistics.median(t.total for t in bare)
    verified_median = statistics.median(t.total for t in verified)
    paired = statistics.median(t.total / t.restore for t in verified)
    print(
        f"{name:<9} bare restore {bare_median:6.2f}s {_runs([t.total for t in bare])}  "
        f"verification {verified_median:6.2f}s {_runs([t.total for t in verified])}, of which "
        f"comparing {statistics.median(t.compare for t in verified):.2f}s  "
        f"ratio {verified_median / bare_median:.2f} (to its own restore {paired:.2f})"
    )
    return verified_median / bare_median, paired


def _runs(values: list[float]) -> str:
    return str([round(v, 2) for v in values])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000, help="Redis keys")
    parser.add_argument("--scale", type=int, default=75, help="pgbench scale (75: ~1.1 GB)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each, alternating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
        root = Path(scratch)
        store = root / "store"
        (root / "redis").mkdir()
        started = time.perf_counter()
        with _redis_source(root / "redis", args.keys) as source:
            redis_backup = back_up_redis(source, "bench", store, STEP_TIMEOUT)
        print(
            f"redis      {redis_backup.fingerprint.total_keys} keys, RDB "
            f"{redis_backup.rdb.stat().st_size / 2**20:.0f} MiB, fingerprint "
            f"{redis_backup.fingerprint.method}, writes paused {redis_backup.pause_ms:.0f} ms"
        )
        with scratch_cluster(STEP_TIMEOUT) as cluster:
            with cluster.database().connect() as conn:
                conn.execute("CREATE DATABASE bench")
            source_db: Database = cluster.database("bench")
            args_, env = source_db.tool_args()
            pgbench = [postgres_tool("pgbench"), "-i", "-q", "-s", str(args.scale), "-I", "dtGvp"]
            run([*pgbench, *args_[1:]], GENERATE_TIMEOUT, env=env)
            with source_db.connect() as conn:
                row = conn.execute("SELECT pg_database_size('bench')").fetchone()
            postgres_backup = back_up_postgres(source_db, "bench", store, STEP_TIMEOUT)
        size = int(str(row[0])) if row else 0
        print(
            f"postgres   {size / 2**30:.2f} GiB database, {postgres_backup.fingerprint.rows} rows, "
            f"dump {postgres_backup.dump.stat().st_size / 2**20:.0f} MiB"
        )
        print(f"dataset and backups ready in {time.perf_counter() - started:.0f}s")
        print(f"load average before timing: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        redis_bare, redis_verified, pg_bare, pg_verified = [], [], [], []
        for _ in range(args.runs):
            redis_bare.append(_redis_bare(redis_backup))
            redis_verified.append(_redis_verify(redis_backup))
            pg_bare.append(_postgres_bare(postgres_backup))
            pg_verified.append(_postgres_verify(postgres_backup))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    redis_ratio, redis_paired = _report("redis", redis_bare, redis_verified)
    pg_ratio, pg_paired = _report("postgres", pg_bare, pg_verified)
    print(
        f"goal <= 1.5x: redis {redis_ratio:.2f}x ({redis_paired:.2f}x paired), "
        f"postgres {pg_ratio:.2f}x ({pg_paired:.2f}x paired)"
    )


if __name__ == "__main__":
    main()
