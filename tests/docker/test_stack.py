"""The reference stack as containers: how each container is set up, and the gate, chaos and
DR suites passing against it (`opsproof run ... --env reference-docker`, as a user runs them)."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker
import psutil
import pytest

from opsproof.paths import SHIPPED_CONFIG, SUITES
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.runtimes.launched import StackState
from opsproof.stack.components import START_ORDER
from opsproof.stack.docker.containers import DATA_VOLUMES, MEMORY_LIMITS

ROOT = SHIPPED_CONFIG.parent
SUITE_TIMEOUT = 300


def _container(engine: docker.DockerClient, state: StackState, name: str) -> dict[str, object]:
    attrs: dict[str, object] = engine.containers.get(state.values[f"{name}.container"]).attrs
    return attrs


@pytest.mark.parametrize("name", START_ORDER)
def test_each_container_is_hardened_on_the_host_network(
    engine: docker.DockerClient, docker_stack: StackState, name: str
) -> None:
    attrs = _container(engine, docker_stack, name)
    host = attrs["HostConfig"]
    assert isinstance(host, dict)
    assert host["NetworkMode"] == "host"
    assert list(attrs["NetworkSettings"]["Networks"]) == ["host"]  # type: ignore[index]
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert host["Memory"] == MEMORY_LIMITS.get(name, 128 << 20) == host["MemorySwap"]
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"] and not host["Privileged"]
    assert host["ReadonlyRootfs"] is True
    assert attrs["Config"]["User"] != "0"  # type: ignore[index]
    if name in DATA_VOLUMES:
        mounts = {m["Destination"]: m for m in attrs["Mounts"]}  # type: ignore[attr-defined]
        volume = mounts[DATA_VOLUMES[name]]
        assert (volume["Type"], volume["Name"]) == ("volume", docker_stack.values[f"{name}.volume"])
        assert volume["Source"] == docker_stack.values[f"{name}.data_dir"]


def test_every_listening_socket_is_on_loopback(docker_stack: StackState) -> None:
    listening = []
    for name in START_ORDER:
        target = DockerTarget(name=name, container=docker_stack.values[f"{name}.container"])
        for pid in DockerRuntime(target).find():
            try:
                connections = psutil.Process(pid).net_connections(kind="inet")
            except psutil.Error:
                continue
            listening += [(name, c.laddr) for c in connections if c.status == "LISTEN"]
    assert {name for name, _ in listening} >= {"redis", "postgres", "api", "nginx"}
    assert all(addr.ip == "127.0.0.1" for _, addr in listening), listening


def test_the_engine_has_no_bridge(engine: docker.DockerClient) -> None:
    assert [n.name for n in engine.networks.list() if n.attrs["Driver"] == "bridge"] == []
    assert "docker0" not in psutil.net_if_addrs()


def _suite(kind: str, state_dir: Path, reports: Path) -> subprocess.CompletedProcess[str]:
    """The suite as plain pytest, exactly the command ``opsproof run KIND`` prints."""
    command = [
        *(sys.executable, "-m", "pytest", str(SUITES[kind]), "--env", "reference-docker"),
        *("--config", str(SHIPPED_CONFIG), "--stack-state-dir", str(state_dir)),
        *("--run-kind", kind, "--reports-dir", str(reports), "-p", "no:cacheprovider", "-q"),
    ]
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=SUITE_TIMEOUT, check=False
    )


def _evidence(reports: Path) -> dict[str, Any]:
    (evidence,) = reports.glob("*/evidence.json")
    found: dict[str, Any] = json.loads(evidence.read_text())
    return found


@pytest.mark.parametrize("kind", ["gate", "chaos", "dr"])
def test_suite_passes_against_the_containers(
    docker_stack: StackState, docker_stack_dir: Path, tmp_path: Path, kind: str
) -> None:
    run = _suite(kind, docker_stack_dir, tmp_path)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    evidence = _evidence(tmp_path)
    totals = evidence["totals"]
    assert totals["failed"] == 0
    assert totals["passed"] >= {"gate": 20, "chaos": 4, "dr": 10}[kind], totals
    if kind == "dr":  # the drill: each volume cloned aside, restored into, the stack back
        [drill] = evidence["drills"]
        assert drill["phases"][-1]["name"] == "original data kept aside"
        objectives = {o["system"]: o for o in drill["objectives"]}
        assert set(objectives) == {"redis", "postgres", "service"}
        assert all(0 < o["rto_achieved_s"] < 120 for o in objectives.values())
        assert all(0 < o["rpo_achieved_s"] < 60 for o in objectives.values())
