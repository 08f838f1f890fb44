"""Runtime health of a container (``runtime: {docker: ...}``): its state from the engine
(RestartCount, OOMKilled); when the engine runs on this machine, memory and CPU from the
container's cgroup (as ``docker stats`` computes them), the kernel's OOM counter and its
processes' open files; else memory and CPU from ``docker stats``."""

import time
from pathlib import Path
from typing import Any

from docker.errors import APIError, DockerException
from docker.models.containers import Container

from opsproof.errors import StackError
from opsproof.health import cgroup_usage
from opsproof.health.cgroup_counters import oom_kills
from opsproof.health.local_files import open_files
from opsproof.health.reading import HealthReading, worst_open_files
from opsproof.runtimes.docker import DockerRuntime

EARLIER_RUN = "an earlier run of the container (State.OOMKilled stays set across its restarts)"


def read_container_health(runtime: DockerRuntime, cpu_window: float | None) -> HealthReading:
    """The container now; CPU sampled over ``cpu_window`` seconds when given."""
    try:
        container = runtime.container()
    except (StackError, DockerException) as error:
        return HealthReading(runtime.id, running=False, state=str(error))
    state = runtime.state()
    epoch = str(container.id)
    identity = f"{epoch[:12]} started {state.started_at}"
    flagged = 1 if state.oom_killed else 0
    if not state.running:
        why = f"{state.status} (exit {state.exit_code}{', OOM-killed' if flagged else ''})"
        return HealthReading(
            runtime.id,
            running=False,
            state=why,
            identity=identity,
            restarts=state.restart_count,
            counter_epoch=epoch,
            oom_kills=flagged,
            oom_scope="its last run",
        )
    unread: dict[str, str] = {}
    absent: dict[str, str] = {}
    local = _local(state.pid, epoch)
    try:
        memory, cores = (_from_cgroup if local else _from_engine)(container, state.pid, cpu_window)
    except (APIError, KeyError, ValueError) as error:
        memory, cores = None, None
        unread["memory_bytes"] = f"docker stats failed: {error}"
    else:
        if memory is None:
            unread["memory_bytes"] = f"cannot read the memory cgroup of PID {state.pid}"
        if cpu_window is not None and cores is None:
            unread["cpu_cores"] = f"cannot read the CPU cgroup of PID {state.pid}"
    kills: int | None = flagged
    scope = EARLIER_RUN
    if local:
        oom = oom_kills((state.pid,), own_only=False)
        if oom.kills is None:
            unread["oom_kills"] = oom.why
        elif oom.kills:
            kills, scope = max(oom.kills, flagged), oom.scope
        files, why = open_files(tuple(runtime.find()))
        if why:
            unread["open_files"] = why
    else:
        files = []
        for figure in ("open_files", "the cgroup's oom_kill counter"):
            absent[figure] = "the engine is on another machine: its /proc is not readable here"
    return HealthReading(
        runtime.id,
        running=True,
        state=state.status + (f", {state.health}" if state.health else ""),
        trouble=_trouble(state.health),
        identity=identity,
        restarts=state.restart_count,
        counter_epoch=epoch,
        oom_kills=kills,
        oom_scope=scope,
        memory_bytes=memory,
        cpu_cores=cores,
        open_files=worst_open_files(files),
        unread=unread,
        absent=absent,
    )


def _trouble(health: str | None) -> str:
    if health in (None, "healthy"):
        return ""
    return f"its HEALTHCHECK says {health}"


def _from_cgroup(
    container: Container, pid: int, window: float | None
) -> tuple[int | None, float | None]:
    """Read where the engine reads them: the container's cgroup on this machine."""
    if window is None:
        return cgroup_usage.memory_bytes(pid), None
    began, first = time.monotonic(), cgroup_usage.cpu_seconds(pid)
    time.sleep(window)  # the sampling window itself, not a wait for anything
    last, ended = cgroup_usage.cpu_seconds(pid), time.monotonic()
    cores = None if first is None or last is None else max(last - first, 0) / (ended - began)
    return cgroup_usage.memory_bytes(pid), cores


def _from_engine(
    container: Container, pid: int, window: float | None
) -> tuple[int | None, float | None]:
    """``docker stats`` for an engine on another machine."""
    if window is None:
        return _memory_bytes(_stats(container)), None
    began, first = time.monotonic(), _stats(container)
    time.sleep(window)  # the sampling window itself, not a wait for anything
    last, ended = _stats(container), time.monotonic()
    used = max(_cpu_ns(last) - _cpu_ns(first), 0) / 1e9
    return _memory_bytes(last), used / (ended - began)


def _stats(container: Container) -> dict[str, Any]:
    stats: dict[str, Any] = container.stats(stream=False, one_shot=True)
    return stats


def _memory_bytes(stats: dict[str, Any]) -> int:
    """Usage less inactive file cache, as ``docker stats`` shows it (v1 and v2 key names)."""
    memory = stats.get("memory_stats") or {}
    counters = memory.get("stats") or {}
    cache = counters.get("total_inactive_file", counters.get("inactive_file", 0))
    return max(int(memory["usage"]) - int(cache), 0)


def _cpu_ns(stats: dict[str, Any]) -> int:
    return int(stats["cpu_stats"]["cpu_usage"]["total_usage"])


def _local(pid: int, container_id: str) -> bool:
    """The engine's PIDs are this machine's: the main process's cgroup names the container."""
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False
