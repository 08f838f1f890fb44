"""kind: process on the real reference stack: the worker is alive and healthy by its heartbeat;
a dead or paused process, a health command that hangs, fails or cannot run each fail with the
reason, in bounded time, never a traceback."""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsproof.config.models import (
    DockerRuntimeSpec,
    ProcessHealthSpec,
    ProcessRuntimeSpec,
    RuntimeSpec,
)
from opsproof.probes.command import health_command
from opsproof.runtimes.launched import StackState
from opsproof.workers import runtime_of
from opsproof.workers.alive import process_alive

pytestmark = pytest.mark.stack


def _runtime(**process: object) -> RuntimeSpec:
    return RuntimeSpec(process=ProcessRuntimeSpec.model_validate(process))


def test_the_reference_worker_is_alive_and_healthy(
    reference_stack: StackState, reference_stack_dir: Path
) -> None:
    runtime = runtime_of("worker", _runtime(component="worker"), reference_stack_dir)
    alive = process_alive(runtime)
    assert alive.ok, alive.reason
    assert alive.figures["processes"].value >= 1  # type: ignore[operator]
    url = reference_stack.values["redis.url"]
    ping = ProcessHealthSpec(
        command=["redis-cli", "-u", url, "GET", "worker:heartbeat"], expect_output='"pid"'
    )
    health = health_command("worker", ping)
    assert health.ok, health.reason


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A process of this test's own, with a PID file."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    pid_file = tmp_path / "sleeper.pid"
    pid_file.write_text(f"{proc.pid}\n")
    yield proc, pid_file
    proc.kill()
    proc.wait(5)


def test_a_dead_process_fails_alive_with_the_reason(
    sleeper: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, pid_file = sleeper
    runtime = runtime_of("sleeper", _runtime(pid_file=pid_file), tmp_path)
    assert process_alive(runtime).ok
    proc.kill()
    proc.wait(5)
    dead = process_alive(runtime)
    assert not dead.ok
    assert dead.reason == "process://sleeper: no process found"
    missing = runtime_of("gone", _runtime(pid_file=tmp_path / "absent.pid"), tmp_path)
    assert process_alive(missing).reason == "process://gone: no process found"


def test_a_container_that_does_not_exist_fails_alive_naming_it(tmp_path: Path) -> None:
    spec = RuntimeSpec(docker=DockerRuntimeSpec(container="opsproof-no-such-worker"))
    seen = process_alive(runtime_of("w", spec, tmp_path))
    assert not seen.ok
    assert seen.reason.startswith("docker://opsproof-no-such-worker: no such container; check ")


def test_a_paused_process_is_not_alive(
    sleeper: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    _, pid_file = sleeper
    runtime = runtime_of("sleeper", _runtime(pid_file=pid_file), tmp_path)
    runtime.pause()
    try:
        paused = process_alive(runtime)
    finally:
        runtime.resume()
    assert not paused.ok
    assert "every process is stopped (paused)" in paused.reason
    assert paused.figures["states"].value == "1 stopped"


def test_a_hanging_health_command_fails_at_its_timeout_with_the_time_it_took() -> None:
    # the child keeps the output pipe open after its parent is gone: still killed on time
    hang = ProcessHealthSpec(command=["sh", "-c", "sleep 60 & sleep 60"], timeout=0.5)
    began = time.monotonic()
    seen = health_command("worker", hang)
    took = time.monotonic() - began
    assert not seen.ok
    assert took < 2.0
    assert "no answer within its timeout of 0.5 s; killed after 0.5" in seen.reason
    assert seen.figures["elapsed_s"].value >= 0.5  # type: ignore[operator]


def test_a_health_command_that_cannot_run_fails_without_a_traceback() -> None:
    missing = ProcessHealthSpec(command=["opsproof-no-such-ping", "--now"])
    seen = health_command("worker", missing)
    assert not seen.ok
    assert "could not run: opsproof-no-such-ping: No such file or directory" in seen.reason
    assert "fix health.command" in seen.reason


def test_exit_status_and_output_are_judged_and_output_is_bounded() -> None:
    failing = ProcessHealthSpec(command=["sh", "-c", "echo connection refused; exit 3"])
    seen = health_command("worker", failing)
    assert not seen.ok
    assert "exited 3 (expected 0)" in seen.reason and "connection refused" in seen.reason
    wrong = ProcessHealthSpec(command=["echo", "PONG?"], expect_output="PONG!")
    assert "its output lacks 'PONG!'" in health_command("worker", wrong).reason
    # 50 MiB of output: read and dropped past 64 KiB, judged as soon as it ends
    chatty = ProcessHealthSpec(
        command=["head", "-c", str(50 << 20), "/dev/zero"], expect_output="x", timeout=10
    )
    began = time.monotonic()
    seen = health_command("worker", chatty)
    assert "output cut at 64 KiB" in seen.reason
    assert time.monotonic() - began < 10
    assert len(seen.reason) < 1000
