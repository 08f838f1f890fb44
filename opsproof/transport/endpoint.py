"""Where a host is and how to authenticate to it: ``ssh://user@host:port`` plus key options."""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from opsproof.config.models import HostSpec

DEFAULT_CONNECT_TIMEOUT = 15.0
"""Seconds to establish the connection: an emulated guest needs ~2 s for the key exchange."""


@dataclass(frozen=True)
class SshEndpoint:
    """One host reached over SSH. ``known_hosts`` is required: keys are always checked strictly.
    Without ``identity_file`` the user's agent and default keys are offered."""

    user: str
    host: str
    port: int
    known_hosts: Path
    identity_file: Path | None = None
    sudo: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT

    @property
    def name(self) -> str:
        """The endpoint as a user wrote it, for messages."""
        return f"ssh://{self.user}@{self.host}:{self.port}"


def endpoint_for(spec: HostSpec) -> SshEndpoint:
    """The endpoint of a host the config declares (its URL already validated)."""
    parts = urlsplit(spec.url)
    if not parts.username or not parts.hostname:
        raise ValueError(f"not an ssh://user@host URL: {spec.url}")
    return SshEndpoint(
        user=parts.username,
        host=parts.hostname,
        port=parts.port or 22,
        known_hosts=spec.ssh.known_hosts,
        identity_file=spec.ssh.identity_file,
        sudo=spec.ssh.sudo,
        connect_timeout=spec.ssh.connect_timeout,
    )
