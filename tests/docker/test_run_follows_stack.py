"""``opsproof`` with the docker stack recorded (issue #12): ``stack status`` names each container,
``run`` with no ``--env`` verifies ``reference-docker`` and says so in one line, the process
environment is refused in one line, and a run leaves a stack with a killed container as it is."""

import json
import subprocess
import sys
from pathlib import Path

import docker

from opsproof.runtimes.launched import StackState
from opsproof.stack.components import START_ORDER
from opsproof.stack.docker.stack import docker_stack_status, start_docker_stack
from opsproof.stack.readiness import wait_healthy
from tests.project import PROJECT_ROOT

CLI_TIMEOUT = 240.0


def opsproof(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsproof.cli", *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        cwd=PROJECT_ROOT,
        check=False,
    )


def test_status_names_each_container_with_its_pid(
    engine: docker.DockerClient, docker_stack: StackState, docker_stack_dir: Path
) -> None:
    shown = opsproof("stack", "status", "--json", "--state-dir", str(docker_stack_dir))

    assert shown.returncode == 0, shown.stdout + shown.stderr
    document = json.loads(shown.stdout)
    assert document["runtime"] == "docker"
    components = {c["name"]: c for c in document["components"]}
    assert list(components) == list(START_ORDER)
    for name, component in components.items():
        assert component["container"] == docker_stack.values[f"{name}.container"]
        container = engine.containers.get(component["container"])
        assert component["pid"] == container.attrs["State"]["Pid"] > 0
        assert component["alive"]


def test_run_without_env_verifies_the_docker_environment(
    docker_stack: StackState, docker_stack_dir: Path, tmp_path: Path
) -> None:
    gate = opsproof(
        "run", "gate", "--state-dir", str(docker_stack_dir), "--reports-dir", str(tmp_path),
        "--", "-q", "-k", "liveness or stack_component",
    )  # fmt: skip

    output = gate.stdout + gate.stderr
    assert gate.returncode == 0, output
    chosen = [line for line in gate.stderr.splitlines() if "verifying environment" in line]
    assert chosen == [
        f"opsproof: verifying environment 'reference-docker': the reference stack recorded in "
        f"{docker_stack_dir} runs as docker containers (--env chooses another)"
    ]
    assert " --env reference-docker " in gate.stderr  # the pytest command it ran
    assert "${stack." not in output
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.endswith("-gate-reference-docker")
    assert "test_stack_component_running[redis]" in (run_dir / "junit.xml").read_text()


def test_the_process_environment_is_refused_in_one_line(
    docker_stack: StackState, docker_stack_dir: Path, tmp_path: Path
) -> None:
    refused = opsproof(
        "run", "gate", "--env", "reference", "--state-dir", str(docker_stack_dir),
        "--reports-dir", str(tmp_path),
    )  # fmt: skip

    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"opsproof: the reference stack recorded in {docker_stack_dir} is the docker one, but "
        "environment 'reference' declares `stack: reference`: use --env reference-docker, or "
        "stop it first (opsproof stack down)"
    ]
    assert not any(tmp_path.iterdir())


def test_a_run_leaves_a_killed_container_as_it_is(
    engine: docker.DockerClient, docker_stack: StackState, docker_stack_dir: Path
) -> None:
    redis = engine.containers.get(docker_stack.values["redis.container"])
    redis.kill()  # the restart policy does not undo a docker kill
    try:
        said: list[str] = []
        state, started = start_docker_stack(
            docker_stack_dir, keep_partial=True, progress=said.append
        )

        assert not started and state.root == docker_stack.root
        assert f"(not running: redis (container {redis.name}))" in said[0]
        redis.reload()
        assert redis.status == "exited"
        status = docker_stack_status(docker_stack_dir)
        assert status is not None and [c.name for c in status.dead] == ["redis"]
    finally:
        redis.start()
        wait_healthy(docker_stack, 60)
