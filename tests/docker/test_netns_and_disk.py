"""Network and disk faults on containers started by hand (as a user's would be), declared only
in YAML: an app in a network namespace of its own (``--network none``) and its Redis joining
it (``network_mode: container:app``) talk over that namespace's loopback; a partition loaded
into that namespace through nsenter fails the app's steady state (its health command connects
to Redis from inside) and is reverted, the rule gone and Redis reachable again. A disk fill in
a named volume and in the container's writable layer is bounded and removed."""

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from opsproof.config.loader import load_environment
from opsproof.faults import netns
from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.faults.feasibility import plan_problems
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.support.waiting import poll

SLEEP = "import time; time.sleep(3600)"
CONNECT = (
    "import socket; s = socket.create_connection(('127.0.0.1', 6379), timeout=1); "
    "s.sendall(b'PING\\r\\n'); assert s.recv(16).startswith(b'+PONG')"
)
RECOVERY = "recovery: {within: 30s, consecutive: 2, interval: 100ms}"


@pytest.fixture
def pair(engine: docker.DockerClient, image: str) -> Iterator[tuple[Container, Container]]:
    """An app with a namespace of its own and a Redis that shares it, removed afterwards."""
    tag = uuid.uuid4().hex[:8]
    labels = {"opsproof.test": "netns"}
    app: Container = engine.containers.run(
        image, ["python3", "-c", SLEEP], name=f"opsproof-test-app-{tag}", user="65534:65534",
        network_mode="none", labels=labels, detach=True,
    )  # fmt: skip
    try:
        store: Container = engine.containers.run(
            image,
            ["redis-server", "--bind", "127.0.0.1", "--port", "6379", "--save", "",
             "--dir", "/"],
            name=f"opsproof-test-store-{tag}", user="65534:65534",
            network_mode=f"container:{app.name}", labels=labels, detach=True,
        )  # fmt: skip
        try:
            yield app, store
        finally:
            store.remove(force=True)
    finally:
        app.remove(force=True)


def _reachable(app: Container) -> bool:
    return app.exec_run(["python3", "-c", CONNECT]).exit_code == 0


def _run(tmp_path: Path, services: str, plan: str) -> tuple[ChaosRun, object]:
    config = tmp_path / "opsproof.yaml"
    config.write_text(
        "version: 1\nenvironments:\n  lab:\n    chaos: allowed\n    services:\n"
        f"{services}    chaos_plan:\n{plan}"
    )
    environment = load_environment(config, "lab").environment
    assert plan_problems("lab", environment, tmp_path) == []
    run = ChaosRun("lab", environment, tmp_path, Ledger(ledger_path(tmp_path)), tmp_path)
    assert environment.chaos_plan is not None
    return run, environment.chaos_plan.experiments[0]


def test_a_partition_inside_a_shared_namespace_fails_the_steady_state_and_is_reverted(
    pair: tuple[Container, Container], tmp_path: Path
) -> None:
    app, store = pair
    docker_cli = shutil.which("docker")
    assert docker_cli is not None
    health = [docker_cli, "exec", app.name, "python3", "-c", CONNECT]
    services = (
        f"      app:\n        kind: process\n"
        f"        runtime: {{docker: {{container: {app.name}}}}}\n"
        f"        health: {{command: {health!r}, timeout: 10s}}\n"
        "      store:\n        kind: redis\n        url: redis://127.0.0.1:6379/0\n"
        f"        runtime: {{docker: {{container: {store.name}}}}}\n"
    )
    plan = (
        f"      may_hit: [app]\n      steady_state: [app]\n      {RECOVERY}\n      experiments:\n"
        "        - name: app cut off from its redis\n"
        "          fault: {action: network, service: app, dependency: store, mode: blackhole}\n"
        "          duration: 3s\n"
    )
    run, experiment = _run(tmp_path, services, plan)
    assert _wait_reachable(app)

    result = run_experiment(run, experiment)  # type: ignore[arg-type]

    assert result.verdict == "failed", result.reason  # the app is expected to ride it out
    assert result.outage_s is not None and result.outage_s > 0, result.reason
    hits = result.figures["fault.packets_hit"].value
    assert isinstance(hits, int) and hits > 0
    assert result.recovery_s is not None, "the steady state did not come back after the revert"
    assert _reachable(app)
    app.reload()
    listed = netns.run(int(app.attrs["State"]["Pid"]), ["list", "tables"])
    assert listed.returncode == 0 and "opsproof-" not in listed.stdout, listed.stdout
    assert not run.ledger.open_faults()


def _wait_reachable(app: Container) -> bool:
    return poll(lambda: _reachable(app), bool, 30)[0]


def test_a_network_fault_on_a_host_networked_container_is_refused_saying_why(
    engine: docker.DockerClient, image: str, tmp_path: Path
) -> None:
    name = f"opsproof-test-hostnet-{uuid.uuid4().hex[:8]}"
    container: Container = engine.containers.run(
        image, ["python3", "-c", SLEEP], name=name, user="65534:65534", network_mode="host",
        labels={"opsproof.test": "netns"}, detach=True,
    )  # fmt: skip
    try:
        config = tmp_path / "opsproof.yaml"
        config.write_text(
            "version: 1\nenvironments:\n  lab:\n    chaos: allowed\n    services:\n"
            f"      app: {{kind: process, runtime: {{docker: {{container: {name}}}}}}}\n"
            "      db: {kind: redis, url: 'redis://127.0.0.1:9/0'}\n"
            "    chaos_plan:\n      may_hit: [app]\n      experiments:\n"
            "        - name: cut\n"
            "          fault: {action: network, service: app, dependency: db, mode: reset}\n"
        )
        environment = load_environment(config, "lab").environment
        problems = plan_problems("lab", environment, tmp_path)
    finally:
        container.remove(force=True)
    assert [p.message for p in problems] == [
        f"container {name!r} runs on the host's network (network_mode: host), so it has no "
        "network namespace of its own and a rule would hit every process of this machine; run "
        "it in a namespace of its own (--network none or a bridge, its dependencies joining it "
        "with network_mode: container:NAME), or declare it as runtime: process, whose network "
        "faults match its own processes"
    ]


@pytest.mark.parametrize("where", ["volume", "layer"])
def test_a_disk_fill_in_a_container_is_bounded_and_removed(
    engine: docker.DockerClient, image: str, tmp_path: Path, where: str
) -> None:
    tag = uuid.uuid4().hex[:8]
    volume = engine.volumes.create(f"opsproof-test-fill-{tag}", labels={"opsproof.test": "fill"})
    container: Container = engine.containers.run(
        image, ["python3", "-c", SLEEP], name=f"opsproof-test-fill-{tag}", user="65534:65534",
        network_mode="none", volumes={volume.name: {"bind": "/data", "mode": "rw"}},
        labels={"opsproof.test": "fill"}, detach=True,
    )  # fmt: skip
    path = "/data" if where == "volume" else "/var/cache"
    try:
        services = (
            f"      app: {{kind: process, runtime: {{docker: {{container: {container.name}}}}}}}\n"
        )
        plan = (
            f"      may_hit: [app]\n      steady_state: [app]\n      {RECOVERY}\n"
            "      experiments:\n        - name: filled\n"
            f"          fault: {{action: disk_fill, service: app, path: {path}, size: 32MiB,\n"
            "                   keep_free: 64MiB}\n          duration: 1s\n"
        )
        run, experiment = _run(tmp_path, services, plan)

        result = run_experiment(run, experiment)  # type: ignore[arg-type]

        listed = container.exec_run(["python3", "-c", f"import os; print(os.listdir('{path}'))"])
    finally:
        container.remove(force=True)
        volume.remove(force=True)
    assert result.verdict == "passed", result.reason
    assert result.figures["fault.allocated_bytes"].value == 32 << 20
    placed = result.figures["fault.filled_in"].value
    expected = f"volume {volume.name} at /data" if where == "volume" else "the container's"
    assert isinstance(placed, str) and placed.startswith(expected), placed
    assert b".opsproof-fill-" not in listed.output, listed.output
    assert not run.ledger.open_faults()
