"""A recorded component is alive only while its PID is the process that was recorded: a PID
reused by a later process reads as dead, and the second a slewed clock moves psutil's boot time
by does not make a live one read as dead (the whole stack once did, at once, in CI)."""

import subprocess
from collections.abc import Iterator

import psutil
import pytest

from opsproof.support.processes import ComponentState, is_alive


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
