"""The shared file lock: one holder at a time, a bounded wait, the holder's errors untouched."""

import subprocess
import sys
from pathlib import Path

import pytest

from opsproof.errors import StackError
from opsproof.stack.lock import LOCK_FILE, state_lock
from opsproof.support.filelock import exclusive

HOLD = """
import fcntl, sys, time
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


def _held_elsewhere(path: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def test_a_lock_another_process_holds_times_out_with_the_callers_error(tmp_path: Path) -> None:
    holder = _held_elsewhere(tmp_path / LOCK_FILE)
    try:
        busy = pytest.raises(TimeoutError, match=r"lock held for 0\.2 s")
        with busy, exclusive(tmp_path / LOCK_FILE, 0.2):
            pass
        busy_stack = pytest.raises(StackError, match="another opsproof process holds")
        with busy_stack, state_lock(tmp_path, 0.2):
            pass
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    with state_lock(tmp_path, 5.0):  # released when its holder exited
        pass


def test_an_error_inside_the_lock_is_not_mistaken_for_a_busy_lock(tmp_path: Path) -> None:
    with pytest.raises(TimeoutError, match="from the body"), state_lock(tmp_path, 1.0):
        raise TimeoutError("from the body")
