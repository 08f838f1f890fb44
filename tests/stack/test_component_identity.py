"""A recorded component is alive only while its PID is the process that was recorded: a PID
reused by a later process reads as dead, and the second a slewed clock moves psutil's boot time
by does not make a live one read as dead (the whole stack once did, at once, in CI)."""

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from opsproof.support.processes import (
    ComponentState,
    is_alive,
    running_processes,
    spawn,
    terminate,
)
from opsproof.support.waiting import poll_until


@pytest.fixture
def sleeper() -> Iterator[psutil.Process]:
    process = subprocess.Popen(["sleep", "60"])
    try:
        yield psutil.Process(process.pid)
    finally:
        process.kill()
        process.wait(timeout=10)


def recorded(process: psutil.Process, off_by_s: float) -> ComponentState:
    return ComponentState(
        "sleeper", process.pid, ["sleep"], create_time=process.create_time() + off_by_s
    )


def test_the_recorded_process_is_alive(sleeper: psutil.Process) -> None:
    assert is_alive(recorded(sleeper, 0.0))


def test_a_boot_time_a_second_off_is_still_the_same_process(sleeper: psutil.Process) -> None:
    assert is_alive(recorded(sleeper, -1.0))
    assert is_alive(recorded(sleeper, 1.0))


def test_a_pid_that_started_later_than_recorded_is_another_process(sleeper: psutil.Process) -> None:
    assert not is_alive(recorded(sleeper, -5.0))


LATE_CHILD = """
import os, signal, sys, time
def stop(*_):
    if os.fork() == 0:  # a child forked on the way out, as a server's late backend is
        time.sleep(0.5)
        os._exit(0)
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
time.sleep(60)
"""


def test_stopping_waits_for_a_child_forked_after_the_stop_signal(tmp_path: Path) -> None:
    """Stopped means nothing of the group is left: a child forked after the signal and
    outliving its leader is waited for too, not only what ran when the signal was sent."""
    log = tmp_path / "late.log"
    component = ComponentState("late", 0, [sys.executable, "-c", LATE_CHILD], log_file=str(log))
    spawn(component)
    assert poll_until(lambda: "ready" in log.read_text(), 10)

    terminate([component], lambda _: signal.SIGTERM, timeout=10)

    assert not running_processes([component])["late"]
