"""What ``opsproof stack status`` shows, and what a run needs to know before it touches a stack.

One shape for both runtimes: every component the stack runs (the core five and, for the process
stack, Prometheus, Alertmanager and the exporters recorded in ``monitoring.json``), each with its
URL, port, PID and, for containers, the container's name.
"""

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int
    """The host PID of the process (a container's main process); 0 when none runs."""
    alive: bool
    port: int | None
    url: str | None
    container: str | None = None
    """The container's name (docker runtime); None for a process."""

    def describe(self) -> str:
        """``redis (pid 8221)`` or ``redis (container opsproof-redis)``: what to look for."""
        where = f"container {self.container}" if self.container else f"pid {self.pid}"
        return f"{self.name} ({where})"


@dataclass(frozen=True)
class StackStatus:
    root: str
    started_at: str
    state_file: str
    components: list[ComponentStatus]
    runtime: str = "process"

    @property
    def running(self) -> bool:
        """Every component's process is alive (paused counts as alive)."""
        return all(c.alive for c in self.components)

    @property
    def dead(self) -> list[ComponentStatus]:
        return [c for c in self.components if not c.alive]

    @property
    def any_alive(self) -> bool:
        """Something of the stack still runs: it is a damaged stack, not a stale record."""
        return any(c.alive for c in self.components)

    def dead_names(self) -> str:
        """``redis (pid 8221), worker (pid 8227)``: the dead components, for one line."""
        return ", ".join(c.describe() for c in self.dead)

    def as_dict(self) -> dict[str, object]:
        """Plain data for ``opsproof stack status --json``."""
        return {"running": self.running, **asdict(self)}


def recorded_status(state_dir: Path) -> StackStatus | None:
    """The stack recorded in ``state_dir``, whichever runtime runs it; None without one."""
    # imported here: the docker status imports the Docker SDK, the process one psutil
    from opsproof.stack.docker.stack import docker_stack_status, recorded_runtime
    from opsproof.stack.launcher import stack_status

    if recorded_runtime(state_dir) == "docker":
        return docker_stack_status(state_dir)
    return stack_status(state_dir)


def not_whole(state_dir: Path, acting: str) -> str | None:
    """Why ``acting`` (something that stops and starts components, as chaos reverts and the DR
    drill do) must not run against the recorded stack: some component is dead, and starting
    it again would repair the stack unseen. None when every component runs or none is recorded.
    """
    status = recorded_status(state_dir)
    if status is None or status.running:
        return None
    return (
        f"the reference stack is not all running ({status.dead_names()} dead): {acting} starts "
        "again what it stops and would repair it unseen; `opsproof stack up` replaces it"
    )
