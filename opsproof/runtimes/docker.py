"""The docker runtime: a service running as a container, acted on through the Docker SDK.

Implements :class:`opsproof.runtimes.base.Runtime` (kill, stop, start, restart, pause,
resume, exec, resources) and adds what only a container has: its state as the engine sees it
(running, health, restart count, OOMKilled), its memory and CPU limits, and ``docker update``
of them. A target is plain data, so the fault ledger can act on it again from another process.
"""

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container
from pydantic import BaseModel, ConfigDict

from opsproof.config.models import Environment
from opsproof.errors import StackError
from opsproof.runtimes.base import Resources
from opsproof.runtimes.docker_engine import connect
from opsproof.support.waiting import poll

KILL_TIMEOUT = 10.0
CFS_PERIOD_US = 100_000
UNLIMITED_CPU_QUOTA = -1
"""What ``docker update`` takes to lift a CPU quota (0 would mean "leave unchanged")."""


class DockerTarget(BaseModel):
    """A service's container, by name or id; everything needed to act on it later."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    container: str


@dataclass(frozen=True)
class ContainerState:
    """The container as the engine reports it."""

    status: str
    """created, running, paused, restarting, exited or dead."""
    health: str | None
    """healthy, unhealthy or starting; None when the container declares no health check."""
    restart_count: int
    """Restarts done by the restart policy (``docker restart`` does not count)."""
    oom_killed: bool
    """The kernel's OOM killer ended the container's last run."""
    exit_code: int
    pid: int
    """Host PID of the main process; 0 when it is not running."""
    started_at: str

    @property
    def running(self) -> bool:
        """Running and not paused (paused containers are still "running" to the engine)."""
        return self.status == "running"

    @property
    def ready(self) -> bool:
        return self.running and self.health in (None, "healthy")


@dataclass(frozen=True)
class Limits:
    """Memory and CPU limits; 0 means none."""

    memory_bytes: int
    memory_swap_bytes: int
    cpu_quota_us: int
    cpu_period_us: int

    @property
    def cpus(self) -> float:
        if self.cpu_quota_us <= 0 or self.cpu_period_us <= 0:
            return 0.0
        return self.cpu_quota_us / self.cpu_period_us


@dataclass(frozen=True)
class MemoryUse:
    """The container's memory cgroup as the engine reports it (``docker stats``)."""

    usage_bytes: int
    limit_bytes: int
    anonymous_bytes: int
    """Anonymous memory charged to the container (v1 ``total_rss``, v2 ``anon``)."""


def docker_target(environment: Environment, name: str) -> DockerTarget | None:
    """The container of service ``name`` when it declares the docker runtime, else None."""
    runtime = getattr(environment.services[name], "runtime", None)
    if runtime is None or runtime.docker is None:
        return None
    return DockerTarget(name=name, container=runtime.docker.container)


def _state(container: Container) -> ContainerState:
    state = container.attrs["State"]
    health = state.get("Health")
    return ContainerState(
        status=str(state["Status"]),
        health=str(health["Status"]) if health else None,
        restart_count=int(container.attrs.get("RestartCount", 0)),
        oom_killed=bool(state.get("OOMKilled", False)),
        exit_code=int(state.get("ExitCode", 0)),
        pid=int(state.get("Pid", 0)),
        started_at=str(state.get("StartedAt", "")),
    )


class DockerRuntime:
    """Implements :class:`opsproof.runtimes.base.Runtime` for one container."""

    def __init__(self, target: DockerTarget, client: docker.DockerClient | None = None) -> None:
        self.target = target
        self._client = client

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect()
        return self._client

    @property
    def id(self) -> str:
        return f"docker://{self.target.container}"

    def container(self) -> Container:
        try:
            found: Container = self.client.containers.get(self.target.container)
        except NotFound:
            raise StackError(
                f"{self.id}: no such container; check runtime.docker.container of "
                f"services.{self.target.name} (docker ps -a lists them)"
            ) from None
        return found

    def state(self) -> ContainerState:
        return _state(self.container())

    def wait_for(
        self, condition: Callable[[ContainerState], bool], timeout: float, what: str
    ) -> ContainerState:
        """Poll the container's state until ``condition`` holds; StackError naming ``what``
        and the last state seen when it does not within ``timeout``."""
        reached, state = poll(self.state, condition, timeout)
        if not reached:
            raise StackError(f"{self.id}: not {what} within {timeout:g} s (now {state})")
        return state

    def find(self) -> list[int]:
        """Host PIDs of the container's processes (paused ones included)."""
        container = self.container()
        if container.status not in ("running", "paused"):
            return []
        try:
            top = container.top(ps_args="-o pid")
        except APIError:  # it stopped between the two calls
            return []
        return [int(row[0]) for row in top.get("Processes") or []]

    def kill(self) -> None:
        """``docker kill``: SIGKILL to the main process. The engine treats it as a deliberate
        stop, so the restart policy does not bring the container back."""
        container = self.container()
        if container.status in ("running", "paused", "restarting"):
            try:
                container.kill()
            except APIError as exc:
                if "is not running" not in str(exc):
                    raise
        self.wait_for(lambda s: s.status in ("exited", "dead"), KILL_TIMEOUT, "dead")

    def stop(self, timeout: float) -> None:
        """``docker stop``: the image's stop signal, SIGKILL after ``timeout``."""
        container = self.container()
        if container.status == "paused":
            container.unpause()  # a frozen process cannot act on its stop signal
        container.stop(timeout=max(int(timeout), 1))
        self.wait_for(lambda s: not s.running, KILL_TIMEOUT, "stopped")

    def start(self, timeout: float) -> None:
        """Unpause or start it if needed, then wait until it runs and, when it declares a
        health check, is healthy. Idempotent; a restart the restart policy has under way is
        waited for, not raced."""
        container = self.container()
        if container.status == "paused":
            container.unpause()
        elif container.status in ("created", "exited", "dead"):
            container.start()
        self.wait_for(lambda s: s.ready, timeout, "running and healthy")

    def restart(self, timeout: float) -> None:
        self.container().restart(timeout=max(int(timeout / 2), 1))
        self.wait_for(lambda s: s.ready, timeout, "running and healthy")

    def pause(self) -> None:
        """``docker pause``: every process frozen (cgroup freezer), sockets still open."""
        self.container().pause()

    def resume(self) -> None:
        """``docker unpause`` when paused; idempotent."""
        container = self.container()
        if container.status == "paused":
            container.unpause()

    def exec(
        self, argv: Sequence[str], timeout: float, user: str = ""
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the container (as its user unless ``user``); raises
        subprocess.TimeoutExpired after killing it when it runs longer than ``timeout``."""
        api = self.client.api
        exec_id = api.exec_create(self.container().id, list(argv), user=user)["Id"]
        output: dict[str, tuple[bytes | None, bytes | None]] = {}
        reader = threading.Thread(
            target=lambda: output.update(result=api.exec_start(exec_id, demux=True)),
            daemon=True,
        )
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self._kill_exec(exec_id)
            reader.join(KILL_TIMEOUT)
            raise subprocess.TimeoutExpired(list(argv), timeout)
        stdout, stderr = output.get("result", (None, None))
        return subprocess.CompletedProcess(
            list(argv),
            int(api.exec_inspect(exec_id)["ExitCode"] or 0),
            (stdout or b"").decode(errors="replace"),
            (stderr or b"").decode(errors="replace"),
        )

    def exec_detached(self, argv: Sequence[str], user: str = "") -> int:
        """Start ``argv`` inside the container and return its host PID at once (a stressor
        that must run alongside the service); it should bound its own lifetime."""
        api = self.client.api
        exec_id = api.exec_create(self.container().id, list(argv), user=user)["Id"]
        api.exec_start(exec_id, detach=True)
        started, pid = poll(
            lambda: int(api.exec_inspect(exec_id).get("Pid") or 0), bool, KILL_TIMEOUT
        )
        if not started:
            raise StackError(f"{self.id}: {argv[0]} did not start in the container")
        return pid

    def _kill_exec(self, exec_id: str) -> None:
        """The engine has no API to stop an exec: SIGKILL its process (a host PID)."""
        pid = int(self.client.api.exec_inspect(exec_id).get("Pid") or 0)
        if pid:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def resources(self) -> Resources:
        """Memory (the cgroup's RSS) and CPU time of the container; zero when it is down."""
        container = self.container()
        if container.status not in ("running", "paused"):
            return Resources((), 0, 0.0)
        stats = container.stats(stream=False, one_shot=True)
        memory = stats.get("memory_stats") or {}
        rss = int((memory.get("stats") or {}).get("rss", memory.get("usage", 0)))
        cpu_ns = int(((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage", 0))
        return Resources(tuple(self.find()), rss, round(cpu_ns / 1e9, 3))

    def memory(self) -> MemoryUse:
        """Its memory cgroup's usage, limit and anonymous memory, as the engine reports them."""
        memory = self.container().stats(stream=False, one_shot=True).get("memory_stats") or {}
        stats = memory.get("stats") or {}
        anonymous = stats.get("total_rss", stats.get("anon", 0))
        return MemoryUse(
            usage_bytes=int(memory.get("usage", 0)),
            limit_bytes=int(memory.get("limit", 0)),
            anonymous_bytes=int(anonymous),
        )

    def throttled_periods(self) -> int:
        """CFS periods in which the container was throttled by its CPU quota, so far."""
        stats = self.container().stats(stream=False, one_shot=True)
        throttling = (stats.get("cpu_stats") or {}).get("throttling_data") or {}
        return int(throttling.get("throttled_periods", 0))

    def limits(self) -> Limits:
        host = self.container().attrs["HostConfig"]
        return Limits(
            memory_bytes=int(host.get("Memory") or 0),
            memory_swap_bytes=int(host.get("MemorySwap") or 0),
            cpu_quota_us=int(host.get("CpuQuota") or 0),
            cpu_period_us=int(host.get("CpuPeriod") or 0),
        )

    def update_limits(self, *, memory_bytes: int | None = None, cpus: float | None = None) -> None:
        """``docker update``: a new memory limit (without swap) and/or CPU quota in cores;
        ``cpus=0`` lifts the quota."""
        options: dict[str, int] = {}
        if memory_bytes is not None:
            options |= {"mem_limit": memory_bytes, "memswap_limit": memory_bytes}
        if cpus is not None:
            quota = int(cpus * CFS_PERIOD_US) if cpus > 0 else UNLIMITED_CPU_QUOTA
            options |= {"cpu_period": CFS_PERIOD_US, "cpu_quota": quota}
        self.container().update(**options)

    def restore_limits(self, limits: Limits) -> None:
        """Put back limits read earlier with :meth:`limits` (idempotent)."""
        options = {"cpu_period": limits.cpu_period_us or CFS_PERIOD_US}
        options["cpu_quota"] = limits.cpu_quota_us or UNLIMITED_CPU_QUOTA
        if limits.memory_bytes:
            options |= {"mem_limit": limits.memory_bytes}
            options |= {"memswap_limit": limits.memory_swap_bytes or limits.memory_bytes}
        self.container().update(**options)

    def events(self, since: float, names: Sequence[str]) -> list[dict[str, object]]:
        """The engine's events (``oom``, ``die``, ``start``, ...) for this container from
        ``since`` (epoch seconds) until now."""
        container = self.container()
        stream = self.client.events(
            since=int(since),
            until=int(time.time()) + 1,
            filters={"container": container.id, "event": list(names)},
            decode=True,
        )
        return [event for event in stream if float(event.get("time", 0)) >= int(since)]
