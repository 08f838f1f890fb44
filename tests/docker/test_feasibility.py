"""No fault without a way back, for containers: a kill of a container the engine does not know,
or of one started with ``--rm`` (deleted once it stops, so it could never be started again), and
a latency fault in a container are refused before anything runs, dry run included; a container
the engine can start again, and a partition in its network namespace, are planned."""

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

CHAOS = Path(__file__).resolve().parents[2] / "chaos"
SLEEP = "import time; time.sleep(3600)"


@pytest.fixture
def removed_when_stopped(engine: docker.DockerClient, image: str) -> Iterator[Container]:
    container: Container = engine.containers.run(
        image,
        ["python3", "-c", SLEEP],
        name=f"opsproof-test-rm-{uuid.uuid4().hex[:8]}",
        user="65534:65534",
        network_mode="none",
        auto_remove=True,
        labels={"opsproof.test": "auto-remove"},
        detach=True,
    )
    yield container
    container.remove(force=True)


def dry_run(tmp_path: Path, container: str, fault: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "opsproof.yaml"
    config.write_text(
        f"""\
version: 1
environments:
  lab:
    chaos: allowed
    services:
      cache:
        kind: redis
        url: redis://127.0.0.1:9/0
        runtime: {{docker: {{container: "{container}"}}}}
      web: {{kind: http, url: "http://127.0.0.1:9/"}}
    chaos_plan:
      may_hit: [cache]
      experiments:
        - name: it
          fault: {fault}
"""
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(CHAOS), "--env", "lab", "--config", str(config),
         "--stack-state-dir", str(tmp_path / "state"), "--no-evidence", "-p", "no:cacheprovider",
         "--dry-run"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_kill_of_a_container_the_engine_does_not_know_is_refused(
    engine: docker.DockerClient, tmp_path: Path
) -> None:
    done = dry_run(tmp_path, "opsproof-test-no-such-container", "{action: kill, service: cache}")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert (
        "opsproof.yaml:9:39: environments.lab.services.cache.runtime.docker.container: no "
        "container 'opsproof-test-no-such-container' on the engine" in done.stderr
    )


def test_a_kill_of_a_container_started_with_rm_is_refused(
    removed_when_stopped: Container, tmp_path: Path
) -> None:
    done = dry_run(tmp_path, removed_when_stopped.name, "{action: kill, service: cache}")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert "which was started with --rm" in done.stderr and "run it without --rm" in done.stderr
    removed_when_stopped.reload()
    assert removed_when_stopped.status == "running"


def test_a_latency_fault_on_a_container_is_refused(sleeper: Container, tmp_path: Path) -> None:
    fault = "{action: network, service: cache, dependency: web, mode: latency}"
    done = dry_run(tmp_path, sleeper.name, fault)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert (
        "environments.lab.chaos_plan.experiments[0].fault.mode: services.cache runs in a "
        "container, and latency is not done in its network namespace; use mode: blackhole, "
        "reset, loss" in done.stderr
    )


def test_a_partition_in_a_container_namespace_is_planned(
    sleeper: Container, tmp_path: Path
) -> None:
    fault = "{action: network, service: cache, dependency: web, mode: blackhole, port: 6379}"
    done = dry_run(tmp_path, sleeper.name, fault)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "undo: delete nftables table inet opsproof-" in done.stdout
    assert "in the container's network namespace" in done.stdout


def test_a_kill_of_a_container_the_engine_can_start_again_is_planned(
    sleeper: Container, tmp_path: Path
) -> None:
    done = dry_run(tmp_path, sleeper.name, "{action: kill, service: cache}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"undo: start docker://{sleeper.name} if it is not running" in done.stdout
