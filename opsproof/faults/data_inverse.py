"""Inverse operations of a DR drill, written to the fault ledger before anything is stopped.

A drill moves each lost store's data aside (``opsproof.runtimes.data``; a container's volume
through ``opsproof.runtimes.docker_data``) and restores into an empty directory; undoing it
stops whatever runs on that data (the store through its runtime, and a PostgreSQL server the
restore started on it: a process here, or a helper container), puts the original back and lets
the ledger's next steps start the services again. Plain data and idempotent, like every step.
"""

import shutil
import signal
from contextlib import suppress
from pathlib import Path
from typing import Literal

import psutil
from pydantic import BaseModel, ConfigDict

from opsproof.errors import RevertFailed
from opsproof.runtimes.data import LocalDataDir
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.runtimes.docker_data import VolumeData
from opsproof.runtimes.docker_engine import connect
from opsproof.runtimes.docker_helper import remove_helpers
from opsproof.runtimes.process import ProcessRuntime, ProcessTarget
from opsproof.support.waiting import poll_until

STOP_TIMEOUT = 30.0
POSTMASTER_PID = "postmaster.pid"
SOCKET_DIR_LINE = 4
"""postmaster.pid's fifth line: the server's first Unix socket directory."""
PRIVATE_PREFIX = "opsproof-drill-pg-"
"""The name the drill's restore server's private directory starts with."""


class PutBackData(BaseModel):
    """Stop the store, remove what was restored, rename the original data back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op: Literal["put_back_data"] = "put_back_data"
    target: ProcessTarget
    home: LocalDataDir

    def apply(self) -> None:
        if not self.home.is_aside():
            return
        stop_postmaster(self.home)
        ProcessRuntime(self.target).stop(STOP_TIMEOUT)
        self.home.put_back()

    def describe(self) -> str:
        return (
            f"stop process://{self.target.name}, put {self.home.aside_where} back as "
            f"{self.home.where}"
        )


class PutBackContainerData(BaseModel):
    """Remove the drill's helper containers (a restore's private server among them), stop
    the store's container, put the original data back: the bind mount's directory renamed
    back, or the volume's verified clone copied back."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    op: Literal["put_back_container_data"] = "put_back_container_data"
    target: DockerTarget
    home: LocalDataDir | VolumeData

    def apply(self) -> None:
        if not self.home.is_aside():
            return
        remove_helpers(connect(), self.home.drill_id)
        DockerRuntime(self.target).stop(STOP_TIMEOUT)
        self.home.put_back()

    def describe(self) -> str:
        return (
            f"stop docker://{self.target.container}, put {self.home.aside_where} back as "
            f"{self.home.where}"
        )


def stop_postmaster(home: LocalDataDir) -> None:
    """Fast shutdown (SIGINT) of a PostgreSQL server running on the restored directory, and
    SIGKILL after ``STOP_TIMEOUT``: what it holds is only the drill's restore. The private
    socket directory of the drill's restore server goes with it."""
    try:
        lines = (home.path / POSTMASTER_PID).read_text().splitlines()
        pid = int(lines[0])
        server = psutil.Process(pid)
        if server.cwd() != str(home.path):  # a stale file, its PID since given to another
            return
    except (OSError, ValueError, IndexError, psutil.Error):
        return
    with suppress(psutil.Error):
        server.send_signal(signal.SIGINT)
    if not poll_until(lambda: not server.is_running() or _zombie(server), STOP_TIMEOUT):
        with suppress(psutil.Error):
            server.kill()
        if not poll_until(lambda: not server.is_running() or _zombie(server), STOP_TIMEOUT):
            raise RevertFailed(f"postgres pid {pid} on {home.where} does not stop")
    sockets = Path(lines[SOCKET_DIR_LINE]) if len(lines) > SOCKET_DIR_LINE else None
    if sockets is not None and sockets.name.startswith(PRIVATE_PREFIX):
        shutil.rmtree(sockets, ignore_errors=True)


def _zombie(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True
