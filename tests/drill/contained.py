"""A deployment in containers that opsproof did not start: Redis keeping its data in a named
volume, PostgreSQL in a bind-mounted host directory, and a small app container that needs both,
from the reference stack's image (built by ``docker import``), on the host's network bound to
127.0.0.1, declared to opsproof only in YAML by container name."""

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import psycopg
import pytest
import redis

from opsproof.faults.ledger import Injection, Ledger, ledger_path
from opsproof.runtimes.docker_engine import connect
from opsproof.runtimes.docker_helper import DRILL_LABEL
from opsproof.stack.docker.containers import POSTGRES_DATA, REDIS_DATA, _postgres_script
from opsproof.stack.docker.images import ensure_images
from opsproof.stack.docker.rootfs import NOBODY, POSTGRES_UID
from opsproof.support.ports import free_ports
from tests.drill.foreign import APP, ROWS, app_healthy, postgres_accepts, wait_for

START_TIMEOUT = 60.0
LABEL = "opsproof.test"
HEALTH = {"interval": 500_000_000, "timeout": 2_000_000_000, "retries": 3}


@dataclass
class Contained:
    """Where everything is, and the YAML that declares it."""

    root: Path
    project: str
    redis_port: int
    pg_port: int
    app_port: int
    pg_data: Path
    """The host directory bind-mounted as PostgreSQL's data directory."""
    state_dir: Path
    store: Path

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def dsn(self) -> str:
        return f"postgresql://app:app-secret@127.0.0.1:{self.pg_port}/shop"

    @property
    def app_url(self) -> str:
        return f"http://127.0.0.1:{self.app_port}"

    @property
    def volume(self) -> str:
        return f"{self.project}-redis-data"

    def container(self, name: str) -> str:
        return f"{self.project}-{name}"

    def config(self, cache: str = "{service: cache}") -> Path:
        text = f"""\
version: 1
environments:
  contained:
    services:
      cache:
        kind: redis
        url: {self.redis_url}
        runtime: {{docker: {{container: {self.container("redis")}}}}}
      db:
        kind: postgres
        dsn: {self.dsn}
        runtime: {{docker: {{container: {self.container("postgres")}}}}}
      app:
        kind: http
        url: {self.app_url}
        runtime: {{docker: {{container: {self.container("app")}}}}}
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
        db: {{service: db, data_dir: {POSTGRES_DATA}}}
      drill: allowed
      scenario: {{stop: [app], flows: [health]}}
"""
        path = self.root / "opsproof.yaml"
        path.write_text(text)
        return path

    def healthy(self) -> bool:
        return app_healthy(self.app_url)


def _run(
    engine: docker.DockerClient, image: str, name: str, command: list[str], **options: object
) -> None:
    engine.containers.run(
        image, command, name=name, network_mode="host", detach=True,
        restart_policy={"Name": "unless-stopped"}, cap_drop=["ALL"],
        security_opt=["no-new-privileges"], labels={LABEL: "drill"}, **options,
    )  # fmt: skip


def _start(contained: Contained, engine: docker.DockerClient, image: str) -> None:
    pg_run = contained.root / "pg-run"
    pg_run.mkdir()
    contained.pg_data.mkdir(mode=0o700)
    for path in (pg_run, contained.pg_data):
        shutil.chown(path, POSTGRES_UID, POSTGRES_UID)
    engine.volumes.create(contained.volume, labels={LABEL: "drill"})
    redis_command = [
        "redis-server", "--bind", "127.0.0.1", "--port", str(contained.redis_port),
        "--dir", REDIS_DATA, "--save", "", "--appendonly", "no",
    ]  # fmt: skip
    _run(
        engine, image, contained.container("redis"), redis_command, user=f"{NOBODY}:{NOBODY}",
        volumes={contained.volume: {"bind": REDIS_DATA, "mode": "rw"}},
        healthcheck={"test": ["CMD", "redis-cli", "-p", str(contained.redis_port), "ping"],
                     **HEALTH},
    )  # fmt: skip
    _run(
        engine, image, contained.container("postgres"),
        ["sh", "-c", _postgres_script(contained.pg_port, pg_run)],
        user=f"{POSTGRES_UID}:{POSTGRES_UID}",
        volumes={str(contained.pg_data): {"bind": POSTGRES_DATA, "mode": "rw"},
                 str(pg_run): {"bind": str(pg_run), "mode": "rw"}},
    )  # fmt: skip
    superuser = f"host={pg_run} port={contained.pg_port} user=postgres dbname=postgres"
    wait_for(lambda: postgres_accepts(superuser), START_TIMEOUT, "postgres")
    with psycopg.connect(superuser, autocommit=True) as conn:
        conn.execute("CREATE ROLE app LOGIN PASSWORD 'app-secret'")
        conn.execute("CREATE DATABASE shop OWNER app")
    with psycopg.connect(contained.dsn) as conn:
        conn.execute("CREATE TABLE items (id text PRIMARY KEY, body text NOT NULL)")
        conn.execute(
            "INSERT INTO items SELECT 'seed-' || g, repeat('x', 200) "
            f"FROM generate_series(1, {ROWS}) g"
        )
    with redis.Redis.from_url(contained.redis_url) as client:
        wait_for(lambda: bool(client.ping()), START_TIMEOUT, "redis")
        client.mset({f"seed:{n}": str(n) for n in range(ROWS)})
    (contained.root / "app.py").write_text(APP)
    app_command = [
        "python3", "/opt/app.py", "/tmp/app.pid", str(contained.app_port),  # noqa: S108 (its own /tmp)
        str(contained.redis_port), contained.dsn,
    ]  # fmt: skip
    _run(
        engine, image, contained.container("app"), app_command, user=f"{NOBODY}:{NOBODY}",
        init=True,  # as PID 1 the app would ignore docker stop's SIGTERM
        volumes={str(contained.root / "app.py"): {"bind": "/opt/app.py", "mode": "ro"}},
        healthcheck={"test": ["CMD", "python3", "-c", _health(contained.app_url)], **HEALTH},
    )  # fmt: skip
    wait_for(contained.healthy, START_TIMEOUT, "app")


def _health(url: str) -> str:
    return f"import urllib.request; urllib.request.urlopen({url + '/health'!r}, timeout=1)"


def _remove(contained: Contained, engine: docker.DockerClient) -> None:
    """Its containers, the drill's helpers, its volume and the volume's clones, its files."""
    for container in engine.containers.list(all=True, filters={"name": contained.project}):
        container.remove(force=True)
    for volume in engine.volumes.list(filters={"name": contained.volume}):
        volume.remove(force=True)
    shutil.rmtree(contained.root, ignore_errors=True)


@pytest.fixture
def contained() -> Iterator[Contained]:
    engine = connect()
    image = ensure_images(engine, lambda message: None).service.image
    root = Path(tempfile.mkdtemp(prefix="opsproof-drill-contained-"))
    root.chmod(0o711)
    redis_port, pg_port, app_port = free_ports(3)
    contained = Contained(
        root, f"opsproof-drill-{uuid.uuid4().hex[:8]}", redis_port, pg_port, app_port,
        root / "pg-data", root / "state", root / "backups",
    )  # fmt: skip
    try:
        _start(contained, engine, image)
        yield contained
    finally:
        _remove(contained, engine)


def helpers_left(engine: docker.DockerClient, contained: Contained) -> list[str]:
    """Helper containers still there of the drills run on ``contained`` (found by the drill ids
    in its ledger): drills of other tests may run beside it, on another xdist worker."""
    records = Ledger(ledger_path(contained.state_dir)).records()
    drills = sorted({r.id.removeprefix("drill-") for r in records if isinstance(r, Injection)})
    selectors = [{"label": f"{DRILL_LABEL}={drill}"} for drill in drills]
    return [c.name for s in selectors for c in engine.containers.list(all=True, filters=s)]
