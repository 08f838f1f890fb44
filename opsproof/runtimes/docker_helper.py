"""Short-lived helper containers: a shell script run in a store's own image beside its data,
with no network and no extra privilege, bounded in time, labelled with the drill it serves and
always removed.

A DR drill copies, checks, empties and restores a container's data through helpers, so the
files are handled by the image's own tools and users (the uid its server runs as exists there)
and the engine, not this machine's paths, decides where a volume lives.
"""

import secrets
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ReadTimeout

from opsproof.errors import BackupError
from opsproof.support.text import one_line

DRILL_LABEL = "opsproof.drill"
ROOT = "0:0"
FILE_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID")
"""What copying files with their owners and modes needs as root; every other capability is
dropped."""
STOP_TIMEOUT = 10
TAIL_LINES = 5

Mounts = dict[str, dict[str, str]]
"""Volume name or host path → ``{"bind": path in the helper, "mode": "ro" | "rw"}``."""


@dataclass(frozen=True)
class Helper:
    """One helper container: what it runs, as whom, beside which data."""

    image: str
    drill_id: str
    purpose: str
    """Part of its name: ``opsproof-drill-<id>-<purpose>-<random>``."""
    script: str
    args: Sequence[str] = ()
    """``$1``, ``$2``, … of the script: values never spliced into shell text."""
    user: str = ROOT
    mounts: Mounts = field(default_factory=dict)
    volumes_from: Sequence[str] = ()
    """Containers whose volumes and bind mounts it gets at the same paths."""
    capabilities: Sequence[str] = FILE_CAPABILITIES

    @property
    def title(self) -> str:
        """``helper clone (image sha256:7b33e4bfa68a)``."""
        return f"helper {self.purpose} (image {self.image.removeprefix('sha256:')[:12]})"

    def _options(self) -> dict[str, object]:
        return {
            "image": self.image,
            "entrypoint": ["sh", "-c", self.script, "sh", *self.args],
            "command": [],
            "name": f"opsproof-drill-{self.drill_id}-{self.purpose}-{secrets.token_hex(2)}",
            "user": self.user,
            "network_mode": "none",
            "volumes": self.mounts,
            "volumes_from": list(self.volumes_from),
            "cap_drop": ["ALL"],
            "cap_add": list(self.capabilities),
            "security_opt": ["no-new-privileges"],
            "labels": {DRILL_LABEL: self.drill_id},
            "detach": True,
        }


def start_helper(client: docker.DockerClient, helper: Helper) -> Container:
    """Started and left running (a server); the caller removes it, and so does the drill's
    undo (:func:`remove_helpers`)."""
    try:
        started: Container = client.containers.run(**helper._options())
    except APIError as exc:
        raise BackupError(f"{helper.title}: {exc.explanation}") from None
    return started


def run_helper(client: docker.DockerClient, helper: Helper, timeout: float) -> str:
    """Run it to its end and return its standard output; BackupError with the tail of its
    standard error when it fails or outlives ``timeout`` (it is killed then)."""
    container = start_helper(client, helper)
    try:
        try:
            status = int(container.wait(timeout=timeout).get("StatusCode", -1))
        except (ReadTimeout, RequestsConnectionError):
            raise BackupError(f"{helper.title} ran longer than {timeout:g} s") from None
        output = str(container.logs(stdout=True, stderr=False).decode(errors="replace"))
        if status != 0:
            errors = container.logs(stdout=False, stderr=True).decode(errors="replace")
            tail = " | ".join(errors.strip().splitlines()[-TAIL_LINES:]) or f"exit {status}"
            raise BackupError(f"{helper.title} failed: {one_line(tail, 300)}")
        return output
    finally:
        remove(container)


def remove(container: Container) -> None:
    """Killed if it runs, then removed; gone already is fine."""
    with suppress(NotFound):
        container.remove(force=True)


def stop_helper(container: Container, signal: str, timeout: float) -> None:
    """``signal`` to its main process (a server's own fast shutdown), SIGKILL after
    ``timeout``, then removed."""
    with suppress(NotFound, APIError):
        container.kill(signal=signal)
        container.wait(timeout=timeout)
    remove(container)


def remove_helpers(client: docker.DockerClient, drill_id: str) -> None:
    """Every helper of drill ``drill_id``, running or not (a restore's private server holds
    the volume it restores into)."""
    selector = {"label": f"{DRILL_LABEL}={drill_id}"}
    for container in client.containers.list(all=True, filters=selector):
        remove(container)
