"""Open file descriptors of local processes against their soft limits (/proc/PID/fd through
psutil, /proc/PID/limits)."""

from functools import partial
from pathlib import Path

import psutil

from opsproof.health.reading import OpenFiles
from opsproof.support.waiting import poll

DENIED_GRACE = 0.5
"""A process being exec'd into a container (a health check, ``docker exec``) is briefly not
dumpable, so its fd table refuses even root: asked again, it has become readable or gone."""


def open_files(pids: tuple[int, ...]) -> tuple[list[OpenFiles], str]:
    """Each readable process's count and soft limit; the second item says why some could not
    be read (empty when all were)."""
    rows: list[OpenFiles] = []
    for pid in pids:
        settled, row = poll(partial(_read, pid), _not_denied, DENIED_GRACE)
        if not settled:
            return rows, f"no permission to read /proc/{pid}/fd (run as its user or root)"
        if isinstance(row, OpenFiles):
            rows.append(row)
    return rows, ""


def _not_denied(row: OpenFiles | str | None) -> bool:
    return row != "denied"


def _read(pid: int) -> OpenFiles | str | None:
    """The process's row; ``denied``; None when it is gone (nothing open any more)."""
    try:
        count = psutil.Process(pid).num_fds()
        soft = _soft_limit(pid)
    except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
        return None
    except psutil.AccessDenied:
        return "denied"
    return OpenFiles(pid, count, soft)


def _soft_limit(pid: int) -> int:
    """From /proc/PID/limits, which anyone may read: prlimit(2) on another user's process
    needs CAP_SYS_RESOURCE, which a container host's agent often lacks."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft = line.split()[3]
            return int(soft) if soft.isdigit() else 0
    return 0
