"""Whether a supervisor restarted the service by itself while the fault was in place.

Docker's restart policy counts its restarts (``RestartCount``; ``docker restart`` and opsproof's
start do not count), and so does systemd (``NRestarts``: restarts by Restart=, reset when the
unit is started by hand); a process runtime has no supervisor. With it the evidence can say who
brought the service back: opsproof's revert, or the supervisor before the revert.
"""

from collections.abc import Callable

from docker.errors import DockerException

from opsproof.config.models import Environment
from opsproof.errors import OpsproofError
from opsproof.runtimes.docker import DockerRuntime, docker_target
from opsproof.runtimes.systemd import SystemdRuntime, systemd_target

RestartCount = Callable[[], int | None]
"""The supervisor's restart count now; None when it cannot be read."""


def restart_count(environment: Environment, service: str) -> RestartCount | None:
    """The service's supervisor restart counter, or None when no supervisor restarts it."""
    container = docker_target(environment, service)
    if container is not None:
        docker = DockerRuntime(container)

        def containers() -> int | None:
            try:
                return docker.state().restart_count
            except (OpsproofError, DockerException):
                return None  # unknown is said as unknown, not as "no restart"

        return containers
    unit = systemd_target(environment, service)
    if unit is None:
        return None
    systemd = SystemdRuntime.of(unit)

    def units() -> int | None:
        try:
            return systemd.state().restarts
        except (OpsproofError, ValueError):
            return None

    return units
