"""One SSH session per declared host for the whole run, closed when the process ends."""

import atexit
import threading

from opsproof.config.models import HostSpec
from opsproof.transport.endpoint import endpoint_for
from opsproof.transport.ssh import SshSession


class SessionPool:
    """Opens a host's master connection on first use and hands the same session out after."""

    def __init__(self) -> None:
        self._sessions: dict[HostSpec, SshSession] = {}
        self._lock = threading.Lock()

    def session(self, spec: HostSpec) -> SshSession:
        """The open session to ``spec``'s host (HostError when it cannot be opened)."""
        with self._lock:
            if spec not in self._sessions:
                self._sessions[spec] = SshSession(endpoint_for(spec)).open()
            return self._sessions[spec]

    def close_all(self) -> None:
        with self._lock:
            for session in self._sessions.values():
                session.close()
            self._sessions.clear()


SESSIONS = SessionPool()
"""The process's pool: probes, runtimes and faults share one connection per host."""
atexit.register(SESSIONS.close_all)
