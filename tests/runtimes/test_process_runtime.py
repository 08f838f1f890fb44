"""The process runtime on real processes: find, signal, stop, start, restart, exec, resources."""

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from opsproof.config.loader import load_environment
from opsproof.config.models import ProcessRuntimeSpec
from opsproof.errors import SafetyError
from opsproof.paths import SHIPPED_CONFIG
from opsproof.runtimes import ProcessRuntime, ProcessTarget, process_target
from opsproof.runtimes.launched import StackState

SLEEPER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[ProcessRuntime]:
    """A service found by its PID file, started by its declared start command."""
    pid_file, marker = tmp_path / "sleeper.pid", f"opsproof-sleeper-{uuid.uuid4().hex[:8]}"
    spec = ProcessRuntimeSpec(
        pid_file=pid_file, start=[sys.executable, "-c", SLEEPER, str(pid_file), marker]
    )
    runtime = ProcessRuntime(ProcessTarget(name="sleeper", spec=spec, state_dir=tmp_path))
    yield runtime
    runtime.kill()


def status(pid: int) -> str:
    return str(psutil.Process(pid).status())


def test_lifecycle_of_a_plain_process(sleeper: ProcessRuntime, tmp_path: Path) -> None:
    assert sleeper.find() == [] and sleeper.resources().pids == ()
    sleeper.start(10)
    (pid,) = sleeper.find()
    assert sleeper.id == "process://sleeper" and sleeper.resources().rss_bytes > 0
    sleeper.pause()
    assert status(pid) == psutil.STATUS_STOPPED
    sleeper.resume()
    sleeper.resume()  # idempotent
    assert status(pid) != psutil.STATUS_STOPPED
    sleeper.restart(20)
    (new_pid,) = sleeper.find()
    assert new_pid != pid
    sleeper.stop(5)
    assert sleeper.find() == []
    sleeper.start(10)
    sleeper.kill()
    assert sleeper.find() == []


def test_a_paused_process_still_stops(sleeper: ProcessRuntime) -> None:
    sleeper.start(10)
    sleeper.pause()
    sleeper.stop(5)
    assert sleeper.find() == []


def test_found_by_command_line_match(sleeper: ProcessRuntime) -> None:
    sleeper.start(10)
    assert sleeper.target.spec.start is not None
    marker = sleeper.target.spec.start[-1]
    by_match = ProcessRuntime(
        ProcessTarget(name="m", spec=ProcessRuntimeSpec(match=marker), state_dir=Path())
    )
    assert by_match.find() == sleeper.find()


def test_reference_stack_component(reference_stack: StackState, reference_stack_dir: Path) -> None:
    loaded = load_environment(SHIPPED_CONFIG, "reference", stack=lambda: reference_stack)
    api = ProcessRuntime(process_target(loaded.environment, "api", reference_stack_dir))
    recorded = StackState.load(reference_stack_dir)  # as now: other tests restart components
    assert recorded is not None and api.find() == [recorded.components["api"].pid]
    code = "import os; print(os.environ['OPSPROOF_REDIS_URL'], os.getcwd())"
    done = api.exec([sys.executable, "-c", code], timeout=10)
    assert done.stdout.split() == [
        reference_stack.values["redis.url"],
        reference_stack.components["api"].cwd,
    ]


def test_a_service_without_runtime_cannot_be_acted_on(
    reference_stack: StackState, reference_stack_dir: Path
) -> None:
    loaded = load_environment(SHIPPED_CONFIG, "reference", stack=lambda: reference_stack)
    with pytest.raises(SafetyError, match=r"services.host: no runtime declared"):
        process_target(loaded.environment, "host", reference_stack_dir)
