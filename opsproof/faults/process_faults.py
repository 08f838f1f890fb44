"""Faults on a service's processes: kill (SIGKILL), graceful stop, restart, pause (SIGSTOP)."""

from opsproof.errors import SafetyError
from opsproof.faults.inverse import InverseStep, ResumeService, StartService
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes import process_runtime
from opsproof.runtimes.base import apply_lifecycle_action
from opsproof.runtimes.process import ProcessTarget


class ProcessFault:
    def __init__(self, action: str, target: ProcessTarget) -> None:
        self.action = action
        self.runtime = process_runtime(target)
        self._target = target
        self._before: list[int] = []

    @property
    def target(self) -> str:
        return self.runtime.id

    @property
    def description(self) -> str:
        verb = {"kill": "SIGKILL", "stop": "graceful stop of", "restart": "restart of"}
        return f"{verb.get(self.action, 'SIGSTOP')} {self.target}"

    @property
    def undo(self) -> str:
        return f"SIGCONT {self.target}" if self.action == "pause" else f"start {self.target}"

    def prepare(self) -> list[InverseStep]:
        self._before = self.runtime.find()
        if not self._before:
            raise SafetyError(f"{self.target} is not running: nothing to {self.action}")
        if self.action == "pause":
            # resume first: a stopped service cannot be started, a paused one is still "up"
            return [ResumeService(target=self._target), StartService(target=self._target)]
        return [StartService(target=self._target)]

    def inject(self) -> None:
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
