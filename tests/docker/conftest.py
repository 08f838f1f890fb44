"""A real Docker engine for the docker tests: a session stack of containers and throwaway
containers for the runtime's operations.

Skipped only when no engine answers, saying why; under CI (CI=true) that is a failure, never a
silent skip: scripts/setup.sh starts an engine wherever it can.
"""

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from opsproof.errors import EngineUnavailable
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.runtimes.docker_engine import connect
from opsproof.runtimes.launched import StackState
from opsproof.stack.docker.images import ensure_images
from opsproof.stack.docker.stack import STATE_LABEL, start_docker_stack, stop_docker_stack

PROJECT_PREFIX = "opsproof-test-"
PROJECT = f"{PROJECT_PREFIX}{os.getpid()}"
"""Per session, so a stack left by a killed earlier session never blocks this one."""
SLEEPER_MEMORY = 96 << 20
SLEEP = (
    "import pathlib, signal, sys, time\n"
    "held = b'\\x01' * (int(sys.argv[1]) << 20)  # every page touched: resident\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # as PID 1 it needs a handler\n"
    "pathlib.Path('/tmp/ready').touch()\n"
    "time.sleep(3600)"
)
READY = ["CMD", "python3", "-c", "import os; os.stat('/tmp/ready')"]
"""Healthy once the handler is in place: a SIGTERM before that would be ignored."""


def _say(config: pytest.Config, message: str) -> None:
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        print(f"\n{message}")


@pytest.fixture(scope="session")
def engine() -> docker.DockerClient:
    try:
        return connect()
    except EngineUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and no Docker engine: {error}", pytrace=False)
        pytest.skip(f"no Docker engine can be reached: {error}")


@pytest.fixture(scope="session")
def image(engine: docker.DockerClient, pytestconfig: pytest.Config) -> str:
    """The stack's image; says whether it was built (cold) or found (cached), and how long."""
    images = ensure_images(engine, lambda message: None)
    for built in (images.base, images.service):
        how = "cached" if built.cached else "built"
        _say(pytestconfig, f"image {built.image} {how} in {built.seconds:.1f} s")
    return images.service.image


@pytest.fixture(scope="session")
def docker_stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("docker-stack-state")


@pytest.fixture(scope="session")
def docker_stack(
    engine: docker.DockerClient, image: str, docker_stack_dir: Path, pytestconfig: pytest.Config
) -> Iterator[StackState]:
    """The reference stack as containers for the session; afterwards nothing of it is left."""
    _sweep_dead_sessions(engine)
    began = time.monotonic()
    state, _ = start_docker_stack(docker_stack_dir, project=PROJECT)
    _say(pytestconfig, f"docker stack up in {time.monotonic() - began:.1f} s")
    yield state
    stop_docker_stack(docker_stack_dir)
    selector = {"label": f"{STATE_LABEL}={docker_stack_dir.absolute()}"}
    assert not engine.containers.list(all=True, filters=selector), "containers left"
    assert not engine.volumes.list(filters=selector), "volumes left"


def _sweep_dead_sessions(engine: docker.DockerClient) -> None:
    """Removes the stacks of test sessions that were killed before their teardown: their
    containers hold ports and memory, and nothing else would ever remove them."""
    selector = {"label": "opsproof.stack"}
    for container in engine.containers.list(all=True, filters=selector):
        if _orphaned(container.labels["opsproof.stack"]):
            container.remove(force=True, v=True)
    for volume in engine.volumes.list(filters=selector):
        if _orphaned(volume.attrs["Labels"]["opsproof.stack"]):
            volume.remove(force=True)


def _orphaned(project: str) -> bool:
    pid = project.removeprefix(PROJECT_PREFIX)
    return project.startswith(PROJECT_PREFIX) and pid.isdigit() and not _alive(int(pid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def sleeper(
    engine: docker.DockerClient, image: str, request: pytest.FixtureRequest
) -> Iterator[Container]:
    """A throwaway container with the stack's settings (no network, restart policy, memory
    limit, unprivileged user) running a process that does nothing, holding as many MiB as
    the test's indirect parameter says (none by default)."""
    held_mib = getattr(request, "param", 0)
    container: Container = engine.containers.run(
        image,
        ["python3", "-c", SLEEP, str(held_mib)],
        name=f"opsproof-test-sleeper-{uuid.uuid4().hex[:8]}",
        user="65534:65534",
        network_mode="none",
        restart_policy={"Name": "unless-stopped"},
        mem_limit=SLEEPER_MEMORY,
        memswap_limit=SLEEPER_MEMORY,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        labels={"opsproof.test": "sleeper"},
        healthcheck={"test": READY, "interval": 500_000_000, "retries": 1},
        detach=True,
    )
    yield container
    container.remove(force=True)


@pytest.fixture
def sleeper_runtime(sleeper: Container, engine: docker.DockerClient) -> DockerRuntime:
    runtime = DockerRuntime(DockerTarget(name="sleeper", container=sleeper.name), engine)
    runtime.wait_for(lambda s: s.ready, 30, "running and healthy")
    return runtime
