"""Inverse operations for container faults, written to the fault ledger before injection.

Plain data (a container name, the limits to put back) and idempotent, like the process
runtime's steps in ``opsproof.faults.inverse``, so the watchdog, the next run or
``opsproof revert`` can replay them without the run that wrote them.
"""

import os
import signal
from contextlib import suppress
from typing import Literal

import psutil
from pydantic import BaseModel, ConfigDict

from opsproof.faults import netns
from opsproof.runtimes.docker import DockerRuntime, DockerTarget, Limits

START_TIMEOUT = 60.0


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StartContainer(_Step):
    """Unpause or start the container if needed and wait until it is ready."""

    op: Literal["docker_start"] = "docker_start"
    target: DockerTarget

    def apply(self) -> None:
        DockerRuntime(self.target).start(START_TIMEOUT)

    def describe(self) -> str:
        return f"start docker://{self.target.container} if it is not running"


class UnpauseContainer(_Step):
    op: Literal["docker_unpause"] = "docker_unpause"
    target: DockerTarget

    def apply(self) -> None:
        DockerRuntime(self.target).resume()

    def describe(self) -> str:
        return f"docker unpause {self.target.container}"


class RestoreContainerLimits(_Step):
    """``docker update`` back to the memory and CPU limits the container had."""

    op: Literal["docker_limits"] = "docker_limits"
    target: DockerTarget
    memory_bytes: int
    memory_swap_bytes: int
    cpu_quota_us: int
    cpu_period_us: int

    @classmethod
    def of(cls, target: DockerTarget, limits: Limits) -> "RestoreContainerLimits":
        return cls(
            target=target,
            memory_bytes=limits.memory_bytes,
            memory_swap_bytes=limits.memory_swap_bytes,
            cpu_quota_us=limits.cpu_quota_us,
            cpu_period_us=limits.cpu_period_us,
        )

    def apply(self) -> None:
        limits = Limits(
            self.memory_bytes, self.memory_swap_bytes, self.cpu_quota_us, self.cpu_period_us
        )
        DockerRuntime(self.target).restore_limits(limits)

    def describe(self) -> str:
        memory = f"{self.memory_bytes >> 20} MiB" if self.memory_bytes else "no memory limit"
        return f"docker update {self.target.container} back to {memory}, its CPU quota"


class StopContainerStressors(_Step):
    """SIGKILL the processes in the container whose command line ends with ``marker`` (the
    fault's stressors; the engine has no API to stop an exec)."""

    op: Literal["docker_stressors"] = "docker_stressors"
    target: DockerTarget
    marker: str

    def apply(self) -> None:
        for pid in DockerRuntime(self.target).find():
            with suppress(psutil.Error, ProcessLookupError):
                if psutil.Process(pid).cmdline()[-1:] == [self.marker]:
                    os.kill(pid, signal.SIGKILL)

    def describe(self) -> str:
        return f"kill the stressors ({self.marker}) in {self.target.container}"


class DeleteNamespaceTable(_Step):
    """Delete the fault's nftables table in the container's network namespace (a namespace
    that is gone took the table with it)."""

    op: Literal["netns_table"] = "netns_table"
    target: DockerTarget
    pid: int
    namespace: str
    table: str

    def apply(self) -> None:
        netns.delete(self.pid, self.namespace, self.table)

    def describe(self) -> str:
        where = f"{self.namespace} ({self.target.container})"
        return f"delete nftables table inet {self.table} in {where}"


DockerInverseStep = (
    StartContainer | UnpauseContainer | RestoreContainerLimits | StopContainerStressors
    | DeleteNamespaceTable
)  # fmt: skip
"""Members for the ledger's ``InverseStep`` union (discriminated by ``op``)."""
