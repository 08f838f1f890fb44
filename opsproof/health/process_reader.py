"""Runtime health of a service running as local processes (``runtime: {process: ...}``),
read with psutil; the process runtime has no restart counter, so a restart shows as new PIDs
or start times (``identity``)."""

from contextlib import suppress
from datetime import UTC, datetime

import psutil

from opsproof.health.cgroup_counters import oom_kills
from opsproof.health.local_cpu import process_cores
from opsproof.health.local_files import open_files
from opsproof.health.reading import HealthReading, worst_open_files
from opsproof.runtimes.process import ProcessRuntime


def read_process_health(runtime: ProcessRuntime, cpu_window: float | None) -> HealthReading:
    """The service's processes now; CPU sampled over ``cpu_window`` seconds when given."""
    pids = tuple(sorted(runtime.find()))
    if not pids:
        return HealthReading(runtime.id, running=False, state="no process found")
    started, stopped, rss = [], [], 0
    for pid in pids:
        with suppress(psutil.Error):
            proc = psutil.Process(pid)
            rss += proc.memory_info().rss
            if proc.status() == psutil.STATUS_STOPPED:
                stopped.append(str(pid))
            when = datetime.fromtimestamp(proc.create_time(), UTC).isoformat(timespec="seconds")
            started.append(f"PID {pid} started {when}")
    unread: dict[str, str] = {}
    absent: dict[str, str] = {}
    oom = oom_kills(pids, own_only=True)
    if oom.kills is None:
        (absent if oom.shared else unread)["oom_kills"] = oom.why
    files, why = open_files(pids)
    if why:
        unread["open_files"] = why
    return HealthReading(
        runtime.id,
        running=True,
        state=f"running as PID {', '.join(map(str, pids))}",
        trouble=f"PID {', '.join(stopped)} stopped (SIGSTOP): it does no work" if stopped else "",
        identity=", ".join(started),
        oom_kills=oom.kills,
        oom_scope=oom.scope,
        memory_bytes=rss,
        cpu_cores=None if cpu_window is None else process_cores(pids, cpu_window),
        open_files=worst_open_files(files),
        unread=unread,
        absent=absent,
    )
