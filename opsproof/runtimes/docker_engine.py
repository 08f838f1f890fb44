"""The Docker engine connection: how to reach dockerd, and why it cannot be reached.

Every call through the client has a timeout (the SDK's per-request ``timeout``), so a hung
engine is an error with a reason, never a hang.
"""

import os

import docker
import requests
from docker.errors import DockerException

from opsproof.errors import EngineUnavailable

API_TIMEOUT = 30.0
"""Per-request timeout; long enough for an image import or commit on a busy engine."""
START_HINT = "bash scripts/docker-engine.sh (as root) installs docker.io and starts dockerd"


def engine_address() -> str:
    """``$DOCKER_HOST``, else the default Unix socket."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout: float = API_TIMEOUT) -> docker.DockerClient:
    """A client whose engine answered a ping; raises EngineUnavailable saying why not."""
    address = engine_address()
    try:
        client = docker.DockerClient(base_url=address, timeout=int(max(timeout, 1)))
        client.ping()
    except (DockerException, requests.RequestException) as exc:
        raise EngineUnavailable(
            f"no Docker engine answers at {address} ({exc}); {START_HINT}"
        ) from None
    return client


def engine_version(client: docker.DockerClient) -> str:
    """The engine's version, e.g. ``20.10.24+dfsg1``."""
    return str(client.version().get("Version", "unknown"))
