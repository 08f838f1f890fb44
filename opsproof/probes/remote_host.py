"""A testinfra host whose commands go over opsproof's multiplexed SSH session, so every
testinfra module (file, socket, service, ...) works on a host declared under ``hosts:`` with
strict host keys, bounded commands and one connection per run."""

from typing import Any

from testinfra.backend.base import BaseBackend, CommandResult
from testinfra.host import Host

from opsproof.config.models import HostSpec
from opsproof.transport.pool import SESSIONS
from opsproof.transport.ssh import SshSession

COMMAND_TIMEOUT = 30.0
"""A probe's command (df, ss, stat) answers in well under a second on a healthy host."""


class SessionBackend(BaseBackend):  # type: ignore[misc]  # testinfra has no type hints
    """testinfra's backend contract over an open :class:`SshSession`."""

    NAME = "opsproof-ssh"

    def __init__(self, session: SshSession) -> None:
        # Probes only read: never through sudo, whatever the host allows for faults.
        super().__init__(session.endpoint.name, sudo=False)
        self._session = session

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        shell = self.get_command(command, *args)
        done = self._session.run(["/bin/sh", "-c", shell], timeout=COMMAND_TIMEOUT, sudo=False)
        return self.result(done.exit_status, self.encode(shell), done.stdout, done.stderr)


def remote_host(spec: HostSpec) -> Host:
    """A testinfra Host for ``spec`` over the run's session to it."""
    backend = SessionBackend(SESSIONS.session(spec))
    host = Host(backend)
    backend.set_host(host)
    return host
