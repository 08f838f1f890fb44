"""Inverse operations: how to undo a fault, written to the ledger before the fault is injected.

Each step is plain data (so the watchdog or ``opsproof revert`` can replay it without the run
that wrote it) and idempotent (so replaying an undone step does nothing).
"""

import signal
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Literal

import psutil
from pydantic import BaseModel, ConfigDict, Field

from opsproof.faults import cgroups, nft
from opsproof.faults.container_inverse import DockerInverseStep
from opsproof.faults.data_inverse import PutBackContainerData, PutBackData
from opsproof.faults.host_process_inverse import CancelHostUndo, HostInverseStep
from opsproof.faults.unit_inverse import CancelTargetUndo, UnitInverseStep
from opsproof.runtimes import process_runtime
from opsproof.runtimes.process import ProcessTarget
from opsproof.support.processes import same_start

START_TIMEOUT = 30.0
DISSOLVE_TIMEOUT = 10.0


class _Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StartService(_Step):
    """Start the service again if it is down (the supervisor a killed service relies on)."""

    op: Literal["start"] = "start"
    target: ProcessTarget

    def apply(self) -> None:
        process_runtime(self.target).start(START_TIMEOUT)

    def describe(self) -> str:
        return f"start process://{self.target.name} if it is down"


class ResumeService(_Step):
    op: Literal["resume"] = "resume"
    target: ProcessTarget

    def apply(self) -> None:
        process_runtime(self.target).resume()

    def describe(self) -> str:
        return f"SIGCONT process://{self.target.name}"


class DissolveScope(_Step):
    """Move the service back to its own cgroups, kill the stressors, remove the scope."""

    op: Literal["dissolve"] = "dissolve"
    controller: str
    name: str
    origins: dict[int, str]

    def apply(self) -> None:
        cgroups.dissolve(self.controller, self.name, self.origins, DISSOLVE_TIMEOUT)

    def describe(self) -> str:
        return f"dissolve cgroup {self.controller}:/{cgroups.SCOPE_PARENT}/{self.name}"


class StopStressors(_Step):
    """Kill every process running ``program`` in a cgroup of the service's own: the stressors
    a fault started beside it there (the service itself runs another program)."""

    op: Literal["stressors"] = "stressors"
    controller: str
    cgroup: str
    program: str

    def apply(self) -> None:
        path = cgroups.hierarchy(self.controller) / self.cgroup.lstrip("/")
        for pid in cgroups.members(path):
            with suppress(psutil.Error):
                proc = psutil.Process(pid)
                if proc.exe() == self.program:
                    proc.kill()

    def describe(self) -> str:
        return f"kill {Path(self.program).name} in cgroup {self.controller}:{self.cgroup}"


class RestoreMemoryLimit(_Step):
    """Put back the limit of a memory cgroup of the service's own (a limit that was lowered in
    place, so that it holds the memory the service already had)."""

    op: Literal["memory_limit"] = "memory_limit"
    cgroup: str
    limit: int

    def apply(self) -> None:
        path = cgroups.hierarchy("memory") / self.cgroup.lstrip("/")
        if path.is_dir():
            cgroups.write(path, "memory.limit_in_bytes", str(self.limit))

    def describe(self) -> str:
        return f"memory limit of cgroup memory:{self.cgroup} back to {self.limit}"


class RestoreOomScore(_Step):
    op: Literal["oom_score"] = "oom_score"
    pid: int
    create_time: float
    value: int

    def apply(self) -> None:
        with suppress(psutil.Error, OSError):
            if same_start(psutil.Process(self.pid).create_time(), self.create_time):
                Path(f"/proc/{self.pid}/oom_score_adj").write_text(str(self.value))

    def describe(self) -> str:
        return f"oom_score_adj of pid {self.pid} back to {self.value}"


class DeleteRules(_Step):
    op: Literal["nft"] = "nft"
    table: str

    def apply(self) -> None:
        nft.delete(self.table)

    def describe(self) -> str:
        return f"nft delete table {nft.FAMILY} {self.table}"


class KillHelper(_Step):
    """Stop a helper process opsproof started (a fault proxy), unless its PID was recycled."""

    op: Literal["kill"] = "kill"
    pid: int
    create_time: float

    def apply(self) -> None:
        with suppress(psutil.Error):
            proc = psutil.Process(self.pid)
            if same_start(proc.create_time(), self.create_time):
                proc.send_signal(signal.SIGKILL)
                proc.wait(5)

    def describe(self) -> str:
        return f"kill helper pid {self.pid}"


class RemoveFile(_Step):
    op: Literal["unlink"] = "unlink"
    path: Path

    def apply(self) -> None:
        self.path.unlink(missing_ok=True)

    def describe(self) -> str:
        return f"remove {self.path}"


InverseStep = Annotated[
    StartService
    | ResumeService
    | DissolveScope
    | StopStressors
    | RestoreMemoryLimit
    | RestoreOomScore
    | DeleteRules
    | KillHelper
    | RemoveFile
    | PutBackData
    | PutBackContainerData
    | DockerInverseStep
    | UnitInverseStep
    | HostInverseStep,
    Field(discriminator="op"),
]


def revert(steps: list[InverseStep]) -> list[str]:
    """Apply every step in order, each even if an earlier one failed; the failures, worded.
    The undo scheduled on a target is cancelled only when everything before it was undone."""
    problems: list[str] = []
    for step in steps:
        if problems and isinstance(step, CancelTargetUndo | CancelHostUndo):
            continue  # the target undoes the fault by itself when its timer fires
        try:
            step.apply()
        except Exception as exc:  # one failed step must not stop the others
            problems.append(f"{step.describe()}: {type(exc).__name__}: {exc}")
    return problems
