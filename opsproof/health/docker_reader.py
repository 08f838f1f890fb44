"""Runtime health of a container (``runtime: {docker: ...}``), read from the engine: its state
(RestartCount, OOMKilled), ``docker stats`` for memory and CPU, and, when the engine runs on
this machine, the kernel's OOM counter of its cgroup and its processes' open files."""

import time
from pathlib import Path

from docker.errors import APIError, DockerException
from docker.models.containers import Container

from opsproof.errors import StackError
from opsproof.health.cgroup_counters import oom_kills
from opsproof.health.local_files import open_files
from opsproof.health.reading import HealthReading, worst_open_files
from opsproof.runtimes.docker import DockerRuntime


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
            runtime.id, False, why, identity, state.restart_count, epoch, flagged, "its last run"
        )
    unread: dict[str, str] = {}
    try:
        memory = _memory_bytes(container)
        cores = None if cpu_window is None else _cores(container, cpu_window)
    except (APIError, KeyError, ValueError) as error:
        memory, cores = None, None
        unread["memory_bytes"] = f"docker stats failed: {error}"
    pids = tuple(runtime.find())
    oom = oom_kills((state.pid,), own_only=False)
    if oom.kills is None:
        unread["oom_kills"] = f"{oom.why} (is the engine on this machine?)"
    files, why = open_files(pids) if _local(state.pid, epoch) else ([], "engine not local")
    if why:
        unread["open_files"] = why
    return HealthReading(
        runtime.id,
        running=True,
        state=state.status + (f", {state.health}" if state.health else ""),
        identity=identity,
        restarts=state.restart_count,
        counter_epoch=epoch,
        oom_kills=max(oom.kills or 0, flagged) if oom.kills is not None else None,
        oom_scope=oom.scope,
        memory_bytes=memory,
        cpu_cores=cores,
        open_files=worst_open_files(files),
        unread=unread,
    )


def _stats(container: Container) -> dict[str, object]:
    stats: dict[str, object] = container.stats(stream=False, one_shot=True)
    return stats


def _memory_bytes(container: Container) -> int:
    """Usage less inactive file cache, as ``docker stats`` shows it (v1 and v2 key names)."""
    memory = _stats(container).get("memory_stats") or {}
    assert isinstance(memory, dict)
    stats = memory.get("stats") or {}
    cache = stats.get("total_inactive_file", stats.get("inactive_file", 0))
    return max(int(memory["usage"]) - int(cache), 0)


def _cpu_ns(container: Container) -> int:
    cpu = _stats(container).get("cpu_stats") or {}
    assert isinstance(cpu, dict)
    return int(cpu["cpu_usage"]["total_usage"])


def _cores(container: Container, window: float) -> float:
    began, first = time.monotonic(), _cpu_ns(container)
    time.sleep(window)  # the sampling window itself, not a wait for anything
    last, ended = _cpu_ns(container), time.monotonic()
    return max(last - first, 0) / 1e9 / (ended - began)


def _local(pid: int, container_id: str) -> bool:
    """The engine's PIDs are this machine's: the main process's cgroup names the container."""
    try:
        return container_id in Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return False
