"""A deployment opsproof did not start: redis-server and PostgreSQL with their own configs, PID
files and start commands, and a small HTTP app that needs both, all on loopback ports and
declared to opsproof only in YAML, as a team would declare its own."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import psutil
import psycopg
import pytest
import redis

from opsproof.backup.postgres.cluster import OS_USER, initdb
from opsproof.backup.tools import postgres_tool, redis_tool
from opsproof.support.ports import free_ports

START_TIMEOUT = 30.0
ROWS = 2000

APP = """\
import http.server, os, socket, sys
import psycopg

pid_file, port, redis_port, dsn = sys.argv[1:5]


def healthy():
    with socket.create_connection(("127.0.0.1", int(redis_port)), timeout=1) as cache:
        cache.sendall(b"PING\\r\\n")
        if not cache.recv(64).startswith(b"+PONG"):
            return False
    with psycopg.connect(dsn, connect_timeout=2) as conn:
        conn.execute("SELECT count(*) FROM items")
    return True


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            ok = healthy()
        except Exception:
            ok = False
        self.send_response(200 if ok else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
with open(pid_file + ".tmp", "w") as out:
    out.write(str(os.getpid()))
os.rename(pid_file + ".tmp", pid_file)
server.serve_forever()
"""


class Deployment(Protocol):
    """What the helpers below need of a deployment started by hand."""

    root: Path
    state_dir: Path

    @property
    def redis_url(self) -> str: ...

    @property
    def dsn(self) -> str: ...


@dataclass
class Foreign:
    """The hand-started deployment: where everything is, and the YAML that declares it."""

    root: Path
    redis_port: int
    pg_port: int
    app_port: int
    pg_data: Path
    redis_data: Path
    state_dir: Path
    store: Path
    commands: dict[str, list[str]]

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def dsn(self) -> str:
        return f"postgresql://app:app-secret@127.0.0.1:{self.pg_port}/shop"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    def config(
        self,
        extra: str = "",
        scenario: str = "{stop: [app], flows: [health]}",
        cache: str = "{service: cache}",
    ) -> Path:
        """The environment ``foreign`` as a user writes it; ``extra`` goes into it."""
        c = self.commands
        text = f"""\
version: 1
environments:
  foreign:
{textwrap.indent(extra, "    ")}
    services:
      cache:
        kind: redis
        url: {self.redis_url}
        runtime: {{process: {{pid_file: {self.root}/redis.pid, start: {c["cache"]}}}}}
      db:
        kind: postgres
        dsn: {self.dsn}
        runtime:
          process: {{pid_file: {self.pg_data}/postmaster.pid, start: {c["db"]}}}
      app:
        kind: http
        url: {self.app_url}
        runtime: {{process: {{pid_file: {self.root}/app.pid, start: {c["app"]}}}}}
    flows:
      - name: health
        service: app
        steps:
          - name: answers
            request: {{method: GET, path: /health}}
            expect: {{status: 200}}
    slo: {{rto: 5m, rpo: 15m}}
    backup:
      store: {self.store}
      sources:
        cache: {cache}
        db: {{service: db, data_dir: {self.pg_data}}}
      drill: allowed
      scenario: {scenario}
"""
        path = self.root / "opsproof.yaml"
        path.write_text(text)
        return path

    def healthy(self) -> bool:
        return app_healthy(self.app_url)


def app_healthy(url: str) -> bool:
    """The test app answers 200 on /health: both its stores serve it."""
    try:
        return httpx.get(url + "/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False


def postgres_accepts(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def redis_accepts(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_timeout=2) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def _start(command: list[str]) -> None:
    subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip


def _stop_pid_file(path: Path, sig: signal.Signals) -> None:
    try:
        proc = psutil.Process(int(path.read_text().split()[0]))
    except (OSError, ValueError, IndexError, psutil.Error):
        return
    proc.send_signal(sig)
    proc.wait(30)


@pytest.fixture
def foreign(request: pytest.FixtureRequest) -> Iterator[Foreign]:
    """Started and stopped here, never by opsproof; data in a directory the ``postgres`` user
    can reach; Redis append-only when the test's parameter says ``"appendonly"``. Stops
    whatever runs on either data directory at the end (the original or a restore) and removes
    everything."""
    appendonly = "yes" if getattr(request, "param", "") == "appendonly" else "no"
    root = Path(tempfile.mkdtemp(prefix="opsproof-drill-foreign-"))
    root.chmod(0o711)
    redis_port, pg_port, app_port = free_ports(3)
    pg_root, redis_data = root / "pg", root / "redis-data"
    pg_root.mkdir(mode=0o711)
    redis_data.mkdir()
    pg_data, pg_run, pg_log = pg_root / "data", pg_root / "run", pg_root / "postgres.log"
    initdb(pg_data, pg_run, Path(postgres_tool("initdb")).parent, OS_USER, pg_log, 60.0)
    with (pg_data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '127.0.0.1'\nport = {pg_port}\n"
            f"unix_socket_directories = '{pg_run}'\nfsync = off\n"
        )
    shutil.chown(pg_log, OS_USER, OS_USER)
    (root / "redis.conf").write_text(
        f"bind 127.0.0.1\nport {redis_port}\ndir {redis_data}\ndbfilename dump.rdb\n"
        f"pidfile {root}/redis.pid\nsave 60 1\nappendonly {appendonly}\n"
        f"logfile {root}/redis.log\n"
    )
    (root / "app.py").write_text(APP)
    foreign = Foreign(
        root, redis_port, pg_port, app_port, pg_data, redis_data, root / "state", root / "backups",
        {
            "cache": [redis_tool("redis-server"), str(root / "redis.conf")],
            "db": ["runuser", "-u", OS_USER, "--", postgres_tool("pg_ctl"), "-D", str(pg_data),
                   "-l", str(pg_log), "-w", "start"],
            "app": [sys.executable, str(root / "app.py"), str(root / "app.pid"), str(app_port),
                    str(redis_port), ""],
        },
    )  # fmt: skip
    foreign.commands["app"][-1] = foreign.dsn
    try:
        _start(foreign.commands["cache"])
        subprocess.run(
            foreign.commands["db"], check=True, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
        superuser = f"host={pg_run} port={pg_port} user=postgres dbname=postgres"
        with psycopg.connect(superuser, autocommit=True) as conn:
            conn.execute("CREATE ROLE app LOGIN PASSWORD 'app-secret'")
            conn.execute("CREATE DATABASE shop OWNER app")
        with psycopg.connect(foreign.dsn) as conn:
            conn.execute("CREATE TABLE items (id text PRIMARY KEY, body text NOT NULL)")
            conn.execute(
                "INSERT INTO items SELECT 'seed-' || g, repeat('x', 200) "
                f"FROM generate_series(1, {ROWS}) g"
            )
        wait_for(lambda: redis_accepts(foreign.redis_url), START_TIMEOUT, "redis")
        with redis.Redis.from_url(foreign.redis_url) as client:
            client.mset({f"seed:{n}": str(n) for n in range(ROWS)})
        _start(foreign.commands["app"])
        wait_for(foreign.healthy, START_TIMEOUT, "app")
        yield foreign
    finally:
        _stop_pid_file(root / "app.pid", signal.SIGTERM)
        _stop_pid_file(root / "redis.pid", signal.SIGTERM)
        _stop_pid_file(pg_data / "postmaster.pid", signal.SIGINT)
        shutil.rmtree(root, ignore_errors=True)


class AckedWrites:
    """A write to each store every 20 ms until ``stop()``, each on a new connection (as a
    client that retries would), recording those acknowledged: the yardstick for "nothing
    lost" after a rollback."""

    def __init__(self, foreign: Deployment) -> None:
        self.foreign = foreign
        self.redis: list[str] = []
        self.postgres: list[str] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "AckedWrites":
        self._thread.start()
        return self

    def _run(self) -> None:
        sequence = 0
        while not self._stopping.wait(0.02):
            sequence += 1
            key = f"acked:{sequence:06d}"
            try:
                with redis.Redis.from_url(self.foreign.redis_url, socket_timeout=1) as client:
                    client.set(key, "1")
                self.redis.append(key)
            except (redis.RedisError, OSError):
                pass
            try:
                with psycopg.connect(self.foreign.dsn, connect_timeout=1) as conn:
                    conn.execute("INSERT INTO items VALUES (%s, 'acked')", (key,))
                self.postgres.append(key)
            except psycopg.Error:
                pass

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(10)

    def missing(self) -> tuple[list[str], list[str]]:
        """Acknowledged writes not in the stores now: (redis, postgres)."""
        with redis.Redis.from_url(self.foreign.redis_url) as client:
            values = client.mget(self.redis) if self.redis else []
        lost_redis = [k for k, v in zip(self.redis, values, strict=True) if v is None]
        with psycopg.connect(self.foreign.dsn) as conn:
            rows = conn.execute(
                "SELECT id FROM items WHERE id = ANY(%s)", (self.postgres,)
            ).fetchall()
        found = {str(row[0]) for row in rows}
        return lost_redis, [k for k in self.postgres if k not in found]


def run_dr(foreign: Deployment, config: Path, *args: str, env: str = "foreign") -> list[str]:
    """The command `opsproof run dr` runs for the drill item alone."""
    return [
        sys.executable, "-m", "opsproof.cli", "run", "dr", "--env", env,
        "--config", str(config), "--state-dir", str(foreign.state_dir),
        "--reports-dir", str(foreign.root / "reports"), "-k", "test_dr_drill", *args,
    ]  # fmt: skip


def wait_for(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.02)


def env_without_state() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "OPSPROOF_STATE_DIR"}


def restoring(store: Path) -> psutil.Process | None:
    """The drill's pg_restore of a dump from ``store`` into the rebuilt server (once the ledger
    entry exists, so not the scratch verification's)."""
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "pg_restore" and str(store) in " ".join(proc.info["cmdline"] or []):
            return proc
    return None


def kill(proc: psutil.Process | None) -> bool:
    """True when ``proc`` was there to be killed."""
    if proc is None:
        return False
    try:
        proc.kill()
    except psutil.NoSuchProcess:
        return False
    return True
