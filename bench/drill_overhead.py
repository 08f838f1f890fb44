"""The DR drill's cost against the bare restores it contains, on a deployment of >= 1 GB.

    .venv/bin/python bench/drill_overhead.py                       # ~1.1 GB PostgreSQL, 1M keys
    .venv/bin/python bench/drill_overhead.py --scale 5 --keys 100000   # a quick look

Starts a deployment as a team runs one — redis-server and a PostgreSQL cluster as processes with
PID files and start commands, declared only in an opsproof.yaml —, fills it (``pgbench -i``,
``redis-cli --pipe``) and runs ``opsproof run dr -k test_dr_drill`` on it. Then, in the same run
on the same machine, times the bare work the drill's restore stands on: ``pg_restore`` of the
drill's own dump into a fresh cluster, and a redis-server loading the drill's own RDB. Prints the
drill's phases, its RTO and its wall time against the bare sum. Several minutes, ~5 GB of disk.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

from opsproof.backup.postgres.cluster import OS_USER, initdb
from opsproof.backup.postgres.dump import globals_path
from opsproof.backup.postgres.restore import restore_dump, restore_globals
from opsproof.backup.postgres.scratch import scratch_cluster
from opsproof.backup.redis.scratch import scratch_redis
from opsproof.backup.tools import postgres_tool, redis_tool, run
from opsproof.support.ports import free_ports

STEP_TIMEOUT = 3600.0
PASSWORD = "bench-secret"

CONFIG = """\
version: 1
environments:
  bench:
    services:
      cache:
        kind: redis
        url: redis://127.0.0.1:{redis_port}/0
        runtime: {{process: {{pid_file: {root}/redis.pid, start: {redis_start}}}}}
      db:
        kind: postgres
        dsn: postgresql://app:{password}@127.0.0.1:{pg_port}/shop
        runtime: {{process: {{pid_file: {pg_data}/postmaster.pid, start: {pg_start}}}}}
    slo: {{rto: 1h, rpo: 1h}}
    backup:
      store: {root}/store
      sources:
        cache: {{service: cache, rto: 1h}}
        db: {{service: db, data_dir: {pg_data}, rto: 1h}}
      drill: allowed
      scenario: {{lost: [cache, db]}}
"""


@contextmanager
def _deployment(root: Path, scale: int, keys: int) -> Iterator[Path]:
    """Started and filled here, never by opsproof; its opsproof.yaml; stopped at the end."""
    redis_port, pg_port = free_ports(2)
    pg_data, pg_run, pg_log = root / "pg" / "data", root / "pg" / "run", root / "pg" / "log"
    (root / "pg").mkdir(mode=0o711)
    (root / "redis").mkdir()
    initdb(pg_data, pg_run, Path(postgres_tool("initdb")).parent, OS_USER, pg_log, 120.0)
    with (pg_data / "postgresql.conf").open("a") as conf:
        conf.write(f"listen_addresses = '127.0.0.1'\nport = {pg_port}\n")
        conf.write(f"unix_socket_directories = '{pg_run}'\n")
    shutil.chown(pg_log, OS_USER, OS_USER)
    (root / "redis.conf").write_text(
        f"bind 127.0.0.1\nport {redis_port}\ndir {root / 'redis'}\ndbfilename dump.rdb\n"
        f"pidfile {root}/redis.pid\nsave 60 1\nlogfile {root}/redis.log\n"
    )
    redis_start = [redis_tool("redis-server"), str(root / "redis.conf")]
    pg_start = ["runuser", "-u", OS_USER, "--", postgres_tool("pg_ctl"), "-D", str(pg_data),
                "-l", str(pg_log), "-w", "start"]  # fmt: skip
    subprocess.Popen(redis_start, stdin=subprocess.DEVNULL, start_new_session=True)
    run(pg_start, 120.0)
    try:
        superuser = f"host={pg_run} port={pg_port} user=postgres dbname=postgres"
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute(f"CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'")
            conn.execute("CREATE DATABASE shop OWNER app")
        pgbench = [postgres_tool("pgbench"), "-i", "-q", "-s", str(scale), "-I", "dtGvp"]
        target = ["-h", "127.0.0.1", "-p", str(pg_port), "-U", "app", "shop"]
        run([*pgbench, *target], STEP_TIMEOUT, env=os.environ | {"PGPASSWORD": PASSWORD})
        commands = root / "load.resp"
        with commands.open("wb") as out:
            for n in range(keys):
                key, value = f"cache:{n}".encode(), f"value-{n:040d}".encode()
                out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
                    len(key), key, len(value), value))  # fmt: skip
        run([redis_tool("redis-cli"), "-p", str(redis_port), "--pipe"], STEP_TIMEOUT,
            stdin=commands)  # fmt: skip
        commands.unlink()
        config = root / "opsproof.yaml"
        config.write_text(CONFIG.format(
            root=root, redis_port=redis_port, pg_port=pg_port, pg_data=pg_data,
            password=PASSWORD, redis_start=json.dumps(redis_start), pg_start=json.dumps(pg_start),
        ))  # fmt: skip
        with psycopg.connect(superuser) as conn:
            row = conn.execute("SELECT pg_database_size('shop')").fetchone()
        print(f"deployment: PostgreSQL {int(str(row[0])) / 2**30 if row else 0:.2f} GiB, "
              f"Redis {keys} keys")  # fmt: skip
        yield config
    finally:
        subprocess.run(["redis-cli", "-p", str(redis_port), "shutdown", "nosave"],
                       capture_output=True, timeout=30, check=False)  # fmt: skip
        stop = ["runuser", "-u", OS_USER, "--", postgres_tool("pg_ctl"), "-D", str(pg_data),
                "-m", "fast", "stop"]  # fmt: skip
        subprocess.run(stop, capture_output=True, timeout=120, check=False)


def _drill(root: Path, config: Path) -> tuple[float, dict[str, Any]]:
    """Run the drill as a user does; its wall time and its record from the evidence."""
    command = [
        sys.executable, "-m", "opsproof.cli", "run", "dr", "--env", "bench", "--config",
        str(config), "--state-dir", str(root / "state"), "--reports-dir", str(root / "reports"),
        "-k", "test_dr_drill",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the drill failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    (evidence,) = (root / "reports").glob("*/evidence.json")
    (drill,) = json.loads(evidence.read_text())["drills"]
    return wall, drill


def _bare(store: Path) -> tuple[float, float]:
    """Seconds for the bare restores of the drill's own backups: (roles and pg_restore, Redis
    load)."""
    (dump,) = store.glob("postgres-db-*.dump")
    (rdb,) = store.glob("redis-cache-*.rdb")
    with scratch_cluster(STEP_TIMEOUT) as cluster:
        started = time.perf_counter()
        restore_globals(globals_path(dump), cluster.database(), STEP_TIMEOUT)
        restore_dump(dump, cluster.database(), "shop", STEP_TIMEOUT)
        postgres = time.perf_counter() - started
    with scratch_redis(rdb, STEP_TIMEOUT, as_replica=False) as scratch:
        return postgres, scratch.load_s


def _seconds(phase: dict[str, Any]) -> float:
    if not phase["finished_at"]:
        return float("nan")
    finished = datetime.fromisoformat(phase["finished_at"])
    return (finished - datetime.fromisoformat(phase["started_at"])).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=75, help="pgbench scale (75: ~1.1 GB)")
    parser.add_argument("--keys", type=int, default=1_000_000, help="Redis keys")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="opsproof-bench-drill-"))
    root.chmod(0o711)  # the postgres user must reach its data directory
    try:
        with _deployment(root, args.scale, args.keys) as config:
            print(f"load average before the drill: {os.getloadavg()[0]:.2f} on {os.cpu_count()}")
            wall, drill = _drill(root, config)
        phases = {str(p["name"]): _seconds(p) for p in drill["phases"]}
        for name, seconds in phases.items():
            print(f"  {name:<36} {seconds:7.2f}s")
        rto = {str(o["system"]): float(o["rto_achieved_s"]) for o in drill["objectives"]}
        postgres, redis_load = _bare(root / "store")
        bare = postgres + redis_load
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print(f"bare: pg_restore {postgres:.2f}s, redis load {redis_load:.2f}s, sum {bare:.2f}s")
        print(f"restore db {phases['restore db']:.2f}s = {phases['restore db'] / postgres:.2f}x "
              f"pg_restore; restore cache {phases['restore cache']:.2f}s")  # fmt: skip
        print(f"RTO {max(rto.values()):.2f}s = {max(rto.values()) / bare:.2f}x the bare sum; "
              f"whole drill {wall:.2f}s = {wall / bare:.2f}x")  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
