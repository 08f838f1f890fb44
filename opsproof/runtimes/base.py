"""The runtime contract: the few things faults, restores and restarts do to a service.

A runtime acts on one declared service wherever it runs (a local process now, a container
later); everything above it (faults, the experiment runner) is written against this contract.
"""

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Resources:
    """What the service's processes use right now; all zero when it is down."""

    pids: tuple[int, ...]
    rss_bytes: int
    cpu_seconds: float


class Runtime(Protocol):
    """One service's processes: find them, signal them, start them again."""

    @property
    def id(self) -> str:
        """Readable id for reports: ``process://redis``."""
        ...

    def find(self) -> list[int]:
        """PIDs of the service's running processes (host PIDs); empty when it is down."""
        ...

    def kill(self) -> None:
        """SIGKILL every process of the service: no chance to clean up."""
        ...

    def stop(self, timeout: float) -> None:
        """Graceful stop: the service's own stop signal, SIGKILL after ``timeout``."""
        ...

    def start(self, timeout: float) -> None:
        """Start it again if it is down and wait until it is ready; idempotent."""
        ...

    def restart(self, timeout: float) -> None:
        """Stop, then start."""
        ...

    def pause(self) -> None:
        """Freeze every process (SIGSTOP): alive, holding its sockets, answering nothing."""
        ...

    def resume(self) -> None:
        """Undo :meth:`pause` (SIGCONT); idempotent."""
        ...

    def exec(self, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run a command in the service's context (its working directory and environment)."""
        ...

    def resources(self) -> Resources:
        """Memory and CPU of the service's processes."""
        ...


LIFECYCLE_STOP_TIMEOUT = 10.0
LIFECYCLE_RESTART_TIMEOUT = 60.0


def apply_lifecycle_action(runtime: Runtime, action: str) -> None:
    """Kill, stop, restart or pause a service through any runtime: one meaning for every fault."""
    if action == "kill":
        runtime.kill()
    elif action == "stop":
        runtime.stop(LIFECYCLE_STOP_TIMEOUT)
    elif action == "restart":
        runtime.restart(LIFECYCLE_RESTART_TIMEOUT)
    elif action == "pause":
        runtime.pause()
    else:
        raise ValueError(f"unknown lifecycle action {action!r}")
