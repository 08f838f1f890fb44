"""The DR drill against stores in containers opsproof did not start — Redis in a named volume,
PostgreSQL in a bind mount —: it passes with RTO and RPO, the volume cloned and the directory
renamed aside; a restore killed halfway puts the original data back and the containers run; the
undo survives the ledger; data the drill could not put back is refused before anything."""

import json
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import docker
import psycopg
import pytest
import redis
from docker.models.containers import Container

from opsproof.errors import SafetyError
from opsproof.faults.container_inverse import StartContainer
from opsproof.faults.data_inverse import PutBackContainerData
from opsproof.faults.ledger import Injection, Ledger, ledger_path
from opsproof.runtimes.data import LocalDataDir
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.runtimes.docker_data import VolumeData, container_data_home
from opsproof.runtimes.docker_engine import connect
from opsproof.stack.docker.images import ensure_images
from tests.drill.contained import Contained, helpers_left
from tests.drill.foreign import ROWS, AckedWrites, kill, restoring, run_dr, wait_for
from tests.project import PROJECT_ROOT

RUN_TIMEOUT = 300.0
BULK_ROWS = 30_000
"""Enough rows that pg_restore runs long enough to be caught in the act."""
WRITTEN = "writes acknowledged before the backup are restored"


def _command(contained: Contained) -> list[str]:
    return run_dr(contained, contained.config(), env="contained")


def _evidence(contained: Contained) -> dict[str, Any]:
    [run_dir] = (contained.root / "reports").iterdir()
    evidence: dict[str, Any] = json.loads((run_dir / "evidence.json").read_text())
    return evidence


def _seeds_present(contained: Contained) -> None:
    with psycopg.connect(contained.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM items WHERE id LIKE 'seed-%'").fetchone()
    assert row == (ROWS,)
    with redis.Redis.from_url(contained.redis_url) as client:
        assert client.exists(*[f"seed:{n}" for n in range(ROWS)]) == ROWS


def _asides(contained: Contained, engine: docker.DockerClient) -> list[str]:
    clones = engine.volumes.list(filters={"name": f"{contained.volume}-opsproof-aside-"})
    return [
        *(v.name for v in clones),
        *(p.name for p in contained.root.glob("pg-data.opsproof-aside-*")),
    ]


def _running(contained: Contained, engine: docker.DockerClient) -> None:
    for name in ("redis", "postgres", "app"):
        target = DockerTarget(name=name, container=contained.container(name))
        assert DockerRuntime(target, engine).state().ready, name


def test_the_drill_passes_on_stores_in_containers(contained: Contained) -> None:
    engine = connect()
    done = subprocess.run(
        _command(contained), capture_output=True, text=True, timeout=RUN_TIMEOUT,
        cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    [drill] = _evidence(contained)["drills"]
    assert [phase["name"] for phase in drill["phases"]] == [
        "preconditions", "steady state", "back up cache", "back up db",
        "verify backups on scratch servers", "disaster", "restore cache", "verify cache",
        "restore db", "verify db", "start db", "start services", "service healthy",
        "original data kept aside",
    ]  # fmt: skip
    for objective in drill["objectives"]:
        assert 0 < objective["rto_achieved_s"] < 120
        assert 0 < objective["rpo_achieved_s"] < 60  # the writes made after the backup
    written = {r["system"]: r["actual"] for r in drill["integrity"] if r["check"] == WRITTEN}
    assert set(written) == {"cache", "db"}
    for actual in written.values():  # "12 of 17 acknowledged writes restored; all from ..."
        restored, acknowledged = (int(n) for n in actual.split(" acknowledged")[0].split(" of "))
        assert 0 < restored < acknowledged, actual
    assert all(result["passed"] for result in drill["integrity"])
    kept = drill["phases"][-1]["note"]
    assert (
        f"volume {contained.volume}-opsproof-aside-" in kept and "pg-data.opsproof-aside-" in kept
    )
    assert len(_asides(contained, engine)) == 2  # the original data, never deleted
    _running(contained, engine)
    assert contained.healthy()
    _seeds_present(contained)
    assert not helpers_left(engine, contained)
    assert not Ledger(ledger_path(contained.state_dir)).open_faults()


def test_a_restore_killed_halfway_puts_the_original_data_back(contained: Contained) -> None:
    """Redis is restored and serving by then (its volume emptied and refilled), PostgreSQL
    half restored by a private server in a helper container: both get their original data
    back, and every write acknowledged before the disaster is there."""
    engine = connect()
    with psycopg.connect(contained.dsn) as conn:
        conn.execute(
            "INSERT INTO items SELECT 'bulk-' || g, repeat(md5(g::text), 10) "
            f"FROM generate_series(1, {BULK_ROWS}) g"
        )
    writes = AckedWrites(contained).start()
    run = subprocess.Popen(
        _command(contained), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        cwd=PROJECT_ROOT,
    )  # fmt: skip
    ledger = Ledger(ledger_path(contained.state_dir))
    wait_for(ledger.open_faults, RUN_TIMEOUT, "the drill's ledger entry")
    writes.stop()  # clients stop with the services (a restore compared while written to differs)
    wait_for(lambda: kill(restoring(contained.store)), RUN_TIMEOUT, "pg_restore killed")
    output, _ = run.communicate(timeout=RUN_TIMEOUT)
    assert run.returncode == 1, output
    assert "rolled back: original data in place" in output
    [drill] = _evidence(contained)["drills"]
    outcomes = {phase["name"]: phase["outcome"] for phase in drill["phases"]}
    assert outcomes["verify cache"] == "ok" and outcomes["restore db"] == "failed"
    assert outcomes["roll back"] == outcomes["healthy after roll back"] == "ok"
    assert "rolled back" in drill["issues"][0]["description"]
    _running(contained, engine)
    assert contained.healthy()
    assert writes.missing() == ([], [])
    assert len(writes.postgres) > 0 and len(writes.redis) > 0
    _seeds_present(contained)
    assert not _asides(contained, engine)
    assert not helpers_left(engine, contained)
    assert not ledger.open_faults()


def test_the_undo_of_a_store_in_a_container_survives_the_ledger(tmp_path: Path) -> None:
    """The watchdog, the next run and ``opsproof revert`` read it back from the file."""
    target = DockerTarget(name="db", container="shop-postgres")
    steps = [
        PutBackContainerData(target=target, home=LocalDataDir(path=tmp_path, drill_id="d1")),
        PutBackContainerData(
            target=target,
            home=VolumeData(volume="shop-data", sub="pg", image="sha256:ab", drill_id="d1"),
        ),
        StartContainer(target=target),
    ]
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.append(
        Injection(
            id="drill-d1", experiment="dr drill", fault="move aside", target="docker://x",
            inverse=steps, deadline=0.0, injected_at=datetime.now(UTC), owner_pid=1,
            owner_started=0.0,
        )
    )  # fmt: skip
    [read] = Ledger(tmp_path / "ledger.jsonl").open_faults()
    assert read.inverse == steps
    assert read.inverse[1].describe() == (
        "stop docker://shop-postgres, put volume shop-data-opsproof-aside-d1 back as volume "
        "shop-data (pg)"
    )


@pytest.fixture
def unmounted() -> Iterator[Container]:
    """A container whose only mount is a tmpfs."""
    engine = connect()
    image = ensure_images(engine, lambda message: None).service.image
    container: Container = engine.containers.create(
        image, ["true"], name=f"opsproof-drill-unmounted-{uuid.uuid4().hex[:8]}",
        network_mode="none", tmpfs={"/cache": "size=1m"}, labels={"opsproof.test": "drill"},
    )  # fmt: skip
    yield container
    container.remove(force=True)


@pytest.mark.parametrize(
    ("data_dir", "refusal"),
    [
        ("/data", "its data directory /data is in the container's own filesystem, not in a "
         "volume or bind mount, so it cannot be set aside; mount a volume there"),
        ("/cache/redis", "its data directory /cache/redis is on a tmpfs mount, which keeps "
         "nothing to set aside; use a named volume or a bind mount"),
    ],
)  # fmt: skip
def test_data_the_drill_could_not_put_back_is_refused(
    unmounted: Container, data_dir: str, refusal: str
) -> None:
    runtime = DockerRuntime(DockerTarget(name="cache", container=unmounted.name))
    with pytest.raises(SafetyError) as refused:
        container_data_home(runtime, PurePosixPath(data_dir), "d1")
    assert str(refused.value) == f"docker://{unmounted.name}: {refusal}"
