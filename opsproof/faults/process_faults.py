"""Faults on a service's processes: kill (SIGKILL), graceful stop, restart, pause (SIGSTOP).

On a host under ``hosts:`` the undo steps are shell scripts (``host_process_inverse``) and the
same undo is scheduled on the host before the fault, as for systemd units: a process left
paused or down by a runner that died is resumed or started there at the deadline."""

from opsproof.errors import SafetyError
from opsproof.faults import cgroup_v2
from opsproof.faults.host_process_inverse import (
    CancelHostUndo,
    HostUndoStep,
    ResumeProcessesOnHost,
    StartProcessesOnHost,
    arm_host_deadman,
)
from opsproof.faults.inverse import InverseStep, ResumeService, StartService
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes import process_runtime
from opsproof.runtimes.base import apply_lifecycle_action
from opsproof.runtimes.process import ProcessTarget


class ProcessFault:
    def __init__(
        self, action: str, target: ProcessTarget, fault_id: str = "", lifetime: float = 0.0
    ) -> None:
        self.action = action
        self.runtime = process_runtime(target)
        self._target = target
        self._before: list[int] = []
        self.fault_id = fault_id
        self.lifetime = lifetime
        self._on_host: list[HostUndoStep] = []

    @property
    def target(self) -> str:
        return self.runtime.id

    @property
    def description(self) -> str:
        verb = {"kill": "SIGKILL", "stop": "graceful stop of", "restart": "restart of"}
        return f"{verb.get(self.action, 'SIGSTOP')} {self.target}"

    @property
    def undo(self) -> str:
        undo = f"SIGCONT {self.target}" if self.action == "pause" else f"start {self.target}"
        on_host = "; scheduled on the host too" if self._target.host is not None else ""
        return undo + on_host

    def prepare(self) -> list[InverseStep]:
        self._before = self.runtime.find()
        if not self._before:
            raise SafetyError(f"{self.target} is not running: nothing to {self.action}")
        if self._target.host is not None:
            start = StartProcessesOnHost(target=self._target)
            resume = ResumeProcessesOnHost(target=self._target)
            self._on_host = [resume, start] if self.action == "pause" else [start]
            return [*self._on_host, CancelHostUndo(target=self._target, fault_id=self.fault_id)]
        if self.action == "pause":
            # resume first: a stopped service cannot be started, a paused one is still "up"
            return [ResumeService(target=self._target), StartService(target=self._target)]
        return [StartService(target=self._target)]

    def inject(self) -> None:
        if self._on_host:
            shell = cgroup_v2.shell_for(self._target.host)
            arm_host_deadman(shell, self.fault_id, self.lifetime, self._on_host)
        apply_lifecycle_action(self.runtime, self.action)

    def effect(self) -> Observation:
        now = self.runtime.find()
        figures = {"pids_before": Figure(len(self._before)), "pids_now": Figure(len(now))}
        if self.action in ("kill", "stop"):
            ok = not now
            seen = "no process left" if ok else f"still running: {now}"
        elif self.action == "restart":
            ok = bool(now) and not set(now) & set(self._before)
            seen = f"pids {self._before} -> {now}"
        else:
            stopped = self.runtime.stopped(now)
            ok = bool(now) and len(stopped) == len(now)
            seen = f"{len(stopped)} of {len(now)} processes stopped"
        return Observation(ok, self.target, f"{self.description}: {seen}", figures)
