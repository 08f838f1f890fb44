"""Open file descriptors of local processes against their soft limits (/proc/PID/fd and
/proc/PID/limits through psutil)."""

import resource

import psutil

from opsproof.health.reading import OpenFiles


def open_files(pids: tuple[int, ...]) -> tuple[list[OpenFiles], str]:
    """Each readable process's count and soft limit; the second item says why some could not
    be read (empty when all were)."""
    rows: list[OpenFiles] = []
    denied: list[int] = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            count = proc.num_fds()
            soft, _ = proc.rlimit(psutil.RLIMIT_NOFILE)
        except psutil.NoSuchProcess:
            continue  # gone between finding and reading: nothing open any more
        except psutil.AccessDenied:
            denied.append(pid)
            continue
        rows.append(OpenFiles(pid, count, 0 if soft == resource.RLIM_INFINITY else soft))
    why = f"no permission to read /proc/{denied[0]}/fd (run as its user or root)" if denied else ""
    return rows, why
