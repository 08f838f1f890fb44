"""A command run with a deadline and a bounded output, whatever it does.

The command is its own process group, so a deadline kills what it started too (a shell's
children, a client it forked) and a grandchild holding the output pipe open cannot make the
caller wait past the deadline. Only the first ``max_output`` bytes are kept; the rest is read
and dropped, so a chatty command neither blocks on a full pipe nor fills memory.
"""

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

MAX_OUTPUT = 64 << 10
_CHUNK = 64 << 10


@dataclass(frozen=True)
class CommandRun:
    """How a bounded command ended."""

    exit_code: int | None
    """None when it could not start or was killed at the deadline."""
    output: str
    """stdout and stderr interleaved, at most ``max_output`` bytes, decoded leniently."""
    elapsed_s: float
    timed_out: bool = False
    truncated: bool = False
    start_error: str | None = None
    """Why it could not start (program not found, not executable)."""


def run_bounded(argv: Sequence[str], timeout: float, max_output: int = MAX_OUTPUT) -> CommandRun:
    """Run ``argv`` (no shell), stdin closed; killed with its process group at ``timeout``."""
    began = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        why = exc.strerror or str(exc)
        return CommandRun(None, "", time.monotonic() - began, start_error=f"{argv[0]}: {why}")
    assert proc.stdout is not None
    kept, truncated = bytearray(), False
    deadline = began + timeout
    with proc.stdout, selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        open_pipe = True
        while open_pipe and time.monotonic() < deadline:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                continue
            chunk = os.read(proc.stdout.fileno(), _CHUNK)
            open_pipe = bool(chunk)
            room = max_output - len(kept)
            truncated = truncated or len(chunk) > room
            kept += chunk[: max(0, room)]
        code = _wait(proc, deadline)
    output = kept.decode(errors="replace")
    elapsed = time.monotonic() - began
    if code is None:
        return CommandRun(None, output, elapsed, timed_out=True, truncated=truncated)
    return CommandRun(code, output, elapsed, truncated=truncated)


def _wait(proc: subprocess.Popen[bytes], deadline: float) -> int | None:
    """Its exit status, or None once the group is killed at the deadline."""
    with suppress(subprocess.TimeoutExpired):
        code = proc.wait(max(0.0, deadline - time.monotonic()))
        _kill_group(proc.pid)  # what it left behind holds nothing of ours afterwards
        return code
    _kill_group(proc.pid)
    proc.wait()
    return None


def _kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
