"""One reading of a service's runtime: the figures the gate judges, and why any is missing."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OpenFiles:
    """The process of the service nearest its open-files limit."""

    pid: int
    count: int
    limit: int
    """Its soft limit (Max open files); 0 when unlimited."""

    @property
    def share(self) -> float:
        return self.count / self.limit if self.limit else 0.0


@dataclass(frozen=True)
class HealthReading:
    """A service's runtime as read now. A figure is None when it was not read: ``unread``
    says why when it should have been (a failure to read), ``absent`` when this runtime has no
    such figure (not applicable)."""

    runtime_id: str
    running: bool
    state: str
    """How the runtime describes it: ``running``, ``exited (exit 137)``, ``active/running``."""
    trouble: str = ""
    """Running but doing no work: a container its HEALTHCHECK calls unhealthy, a frozen unit, a
    stopped (SIGSTOP) process; empty when none."""
    identity: str = ""
    """Changes whenever the service starts anew (container id and start time, the unit's
    InvocationID, the PIDs and their start times)."""
    restarts: int | None = None
    """The runtime's own restart counter (docker RestartCount, systemd NRestarts)."""
    counter_epoch: str = ""
    """What the counter belongs to: a new epoch (a recreated container) restarts it at 0."""
    oom_kills: int | None = None
    oom_scope: str = ""
    """Where ``oom_kills`` was read, for the reason: ``cgroup /docker/abc``."""
    memory_bytes: int | None = None
    cpu_cores: float | None = None
    open_files: OpenFiles | None = None
    unread: dict[str, str] = field(default_factory=dict)
    absent: dict[str, str] = field(default_factory=dict)


def worst_open_files(rows: list[OpenFiles]) -> OpenFiles | None:
    """The process nearest its limit (an unlimited one only when all are)."""
    if not rows:
        return None
    return max(rows, key=lambda row: (row.limit > 0, row.share, row.count))
