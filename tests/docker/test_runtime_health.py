"""Runtime health of containers, on real containers: a restart by the restart policy, an OOM
kill inside the container, memory and CPU over budget each fail the item; a healthy one passes."""

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.models.containers import Container

from opsproof.config.models import RuntimeHealth, RuntimeSpec
from opsproof.health.baseline import Baselines
from opsproof.health.check import RuntimeHealthCheck
from opsproof.health.policy import policy_for
from opsproof.runtimes.docker import DockerRuntime, DockerTarget

READY = 30.0
HOLD = """\
import os, pathlib, subprocess, sys, time
kind, amount = sys.argv[1], int(sys.argv[2])
held = []
if kind == "memory":
    held.append(bytearray(amount << 20))
elif kind == "oom":  # a child over the container's limit: the kernel kills it, PID 1 lives on
    subprocess.run([sys.executable, "-c", f"bytearray({amount} << 20)"])
elif kind == "oom-once" and not os.path.exists("/tmp/crashed"):
    pathlib.Path("/tmp/crashed").touch()
    bytearray(amount << 20)  # PID 1 itself over the limit: the kernel kills the container
elif kind == "crash-once" and not os.path.exists("/tmp/crashed"):
    pathlib.Path("/tmp/crashed").touch()  # the writable layer outlives the restart
    time.sleep(2)
    sys.exit(1)
if kind != "sick":
    pathlib.Path("/tmp/ready").touch()
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    if kind != "busy":
        time.sleep(0.2)
"""
IS_READY = ["CMD", "python3", "-c", "import os; os.stat('/tmp/ready')"]

Run = Callable[..., tuple[DockerRuntime, RuntimeSpec]]


@pytest.fixture
def run(engine: docker.DockerClient, image: str) -> Iterator[Run]:
    """Run a container holding memory or a core, crashing once or OOM-killing a child."""
    started: list[Container] = []

    def _run(
        kind: str = "idle", amount: int = 0, memory: int = 256 << 20, **runtime: Any
    ) -> tuple[DockerRuntime, RuntimeSpec]:
        container: Container = engine.containers.run(
            image,
            ["python3", "-c", HOLD, kind, str(amount)],
            name=f"opsproof-test-health-{uuid.uuid4().hex[:8]}",
            user="65534:65534",
            network_mode="none",
            restart_policy={"Name": "on-failure"},
            mem_limit=memory,
            memswap_limit=memory,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            labels={"opsproof.test": "runtime-health"},
            healthcheck={"test": IS_READY, "interval": 300_000_000, "retries": 1},
            detach=True,
        )
        started.append(container)
        spec = RuntimeSpec.model_validate({"docker": {"container": container.name}, **runtime})
        return DockerRuntime(DockerTarget(name="svc", container=str(container.name)), engine), spec

    yield _run
    for container in started:
        container.remove(force=True)


def check(runtime: DockerRuntime, spec: RuntimeSpec, state: Path) -> RuntimeHealthCheck:
    return RuntimeHealthCheck(
        runtime, policy_for(RuntimeHealth(), spec), Baselines(state, "test", "svc")
    )


def healthy(runtime: DockerRuntime) -> None:
    runtime.wait_for(lambda s: s.ready, READY, "running and healthy")


def test_a_healthy_container_passes(run: Run, tmp_path: Path) -> None:
    runtime, spec = run(budget={"memory": "200MiB", "cpu": "50%"})
    healthy(runtime)
    first = check(runtime, spec, tmp_path)
    first.observe()
    first.record()
    observed = check(runtime, spec, tmp_path).observe()

    assert observed.ok, observed.reason
    assert observed.figures["restarts_since_baseline"].value == 0
    assert observed.figures["oom_kills"].value == 0
    assert 0 < observed.figures["memory"].value < 200


def test_a_container_restarted_by_its_restart_policy_fails(run: Run, tmp_path: Path) -> None:
    runtime, spec = run("crash-once")
    runtime.wait_for(lambda s: s.running, READY, "running")
    before = check(runtime, spec, tmp_path)
    assert before.observe().figures["restarts"].value == 0  # still in its first run
    before.record()
    runtime.wait_for(lambda s: s.restart_count == 1 and s.ready, READY, "restarted")
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok
    assert "restarted 1 time(s) since" in observed.reason
    assert observed.figures["restarts"].value == 1


def test_an_oom_kill_inside_the_container_fails(run: Run, tmp_path: Path) -> None:
    runtime, spec = run("oom", 256, memory=64 << 20)
    healthy(runtime)
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok
    assert "1 OOM kill(s) in cgroup" in observed.reason
    assert observed.figures["oom_kills"].value == 1


def test_a_container_oom_killed_and_restarted_by_its_policy_fails(run: Run, tmp_path: Path) -> None:
    runtime, spec = run("oom-once", 256, memory=64 << 20)
    runtime.wait_for(lambda s: s.restart_count == 1 and s.ready, READY, "restarted")
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok
    assert "1 OOM kill(s) in an earlier run of the container" in observed.reason


def test_a_container_over_its_memory_budget_fails(run: Run, tmp_path: Path) -> None:
    runtime, spec = run("memory", 96, budget={"memory": "48MiB"})
    healthy(runtime)
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok
    assert "over its budget of 48.0 MiB" in observed.reason


def test_a_busy_container_over_its_cpu_budget_fails(run: Run, tmp_path: Path) -> None:
    runtime, spec = run("busy", budget={"cpu": "5%"})  # low: two cores shared by CI jobs
    healthy(runtime)
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok
    assert "over its budget of 5%" in observed.reason


def test_a_stopped_container_fails_saying_why(run: Run, tmp_path: Path) -> None:
    runtime, spec = run()
    healthy(runtime)
    runtime.kill()
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok and "not running (exited (exit 137))" in observed.reason


def test_a_container_restarted_by_hand_is_noted_not_counted(run: Run, tmp_path: Path) -> None:
    runtime, spec = run()
    healthy(runtime)
    before = check(runtime, spec, tmp_path)
    before.observe()
    before.record()
    runtime.restart(READY)  # what an operator's docker restart or a redeploy looks like
    observed = check(runtime, spec, tmp_path).observe()

    assert observed.ok, observed.reason
    assert "without its restart counter rising (by hand or a redeploy): not counted" in (
        observed.reason
    )


def test_a_container_its_health_check_calls_unhealthy_fails(run: Run, tmp_path: Path) -> None:
    runtime, spec = run("sick")
    runtime.wait_for(lambda s: s.health == "unhealthy", READY, "unhealthy")
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok and "its HEALTHCHECK says unhealthy" in observed.reason
