"""The process runtime: a service running as local processes, found by reference-stack
component, PID file or command-line match (psutil does the finding and signalling). Processes
on a declared host are ``remote_process.py``'s; ``runtimes.process_runtime`` picks."""

import os
import signal
import subprocess
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

import psutil
from pydantic import BaseModel, ConfigDict

from opsproof.config.models import HostSpec, ProcessRuntimeSpec
from opsproof.errors import StackError
from opsproof.runtimes.base import Resources
from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import start_component, stop_component
from opsproof.support.processes import ComponentState, members
from opsproof.support.waiting import poll_until

SIGNAL_TIMEOUT = 5.0


class ProcessTarget(BaseModel):
    """Everything needed to act on the service again later, even from another process
    (the watchdog, ``opsproof revert``): it is written into the fault ledger."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    spec: ProcessRuntimeSpec
    state_dir: Path
    """The reference stack's state directory (for ``component`` services)."""
    host: HostSpec | None = None
    """The declared host it runs on (``spec.host`` resolved), reached over SSH; None: here."""

    @property
    def host_label(self) -> str:
        return self.host.url if self.host is not None else "this machine"


class ProcessRuntime:
    """Implements :class:`opsproof.runtimes.base.Runtime` for local processes."""

    def __init__(self, target: ProcessTarget) -> None:
        self.target = target

    @property
    def id(self) -> str:
        return f"process://{self.target.name}"

    def _component(self) -> ComponentState | None:
        name = self.target.spec.component
        state = StackState.load(self.target.state_dir) if name else None
        return None if state is None or name is None else state.components.get(name)

    def _processes(self) -> list[psutil.Process]:
        spec = self.target.spec
        if spec.component:
            component = self._component()
            return members(component) if component else []
        if spec.pid_file:
            return _from_pid_file(spec.pid_file)
        return _matching(spec.match or "")

    def find(self) -> list[int]:
        return [proc.pid for proc in self._processes()]

    def _signal(self, sig: signal.Signals) -> None:
        for proc in self._processes():
            with suppress(psutil.Error):
                proc.send_signal(sig)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)
        _wait_gone(self, 10.0)

    def stop(self, timeout: float) -> None:
        if self.target.spec.component:
            stop_component(self.target.state_dir, self.target.spec.component, timeout=timeout)
            return
        self._signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
        self._signal(signal.SIGTERM)
        if not _wait_gone(self, timeout * 0.6):
            self.kill()

    def start(self, timeout: float) -> None:
        spec = self.target.spec
        if spec.component:
            start_component(self.target.state_dir, spec.component, timeout=timeout)
            return
        if self.find():
            return
        if not spec.start:
            raise StackError(
                f"{self.id}: no start command declared; add runtime.process.start to the config"
            )
        # Detached like a service manager would start it, so it outlives this run.
        subprocess.Popen(
            spec.start,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not poll_until(lambda: bool(self.find()), timeout):
            raise StackError(f"{self.id}: not running {timeout:g} s after {spec.start}")

    def restart(self, timeout: float) -> None:
        self.stop(timeout / 2)
        self.start(timeout / 2)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)
        self._wait_status(stopped=True)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)
        self._wait_status(stopped=False)

    def stopped(self, pids: list[int]) -> list[int]:
        """Those of ``pids`` that are stopped (SIGSTOP) now."""
        return [pid for pid in pids if _status_of(pid) == psutil.STATUS_STOPPED]

    def _wait_status(self, *, stopped: bool) -> None:
        """Signals land asynchronously: return once every process shows the new state."""

        def settled() -> bool:
            return all((_status(p) == psutil.STATUS_STOPPED) == stopped for p in self._processes())

        if not poll_until(settled, SIGNAL_TIMEOUT):
            raise StackError(f"{self.id}: not {'stopped' if stopped else 'resumed'} in time")

    def exec(self, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        component = self._component()
        env = {**os.environ, **(component.env if component else {})}
        cwd = component.cwd if component else None
        return subprocess.run(
            list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
        )

    def resources(self) -> Resources:
        pids, rss, cpu = [], 0, 0.0
        for proc in self._processes():
            with suppress(psutil.Error):
                rss += proc.memory_info().rss
                times = proc.cpu_times()
                cpu += times.user + times.system
                pids.append(proc.pid)
        return Resources(tuple(pids), rss, round(cpu, 3))


def _wait_gone(runtime: ProcessRuntime, timeout: float) -> bool:
    return poll_until(lambda: not runtime.find(), timeout)


def _status(proc: psutil.Process) -> str:
    try:
        return str(proc.status())
    except psutil.Error:
        return "gone"


def _status_of(pid: int) -> str:
    try:
        return _status(psutil.Process(pid))
    except psutil.Error:
        return "gone"


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _from_pid_file(path: Path) -> list[psutil.Process]:
    try:
        proc = psutil.Process(int(path.read_text().split()[0]))
    except (OSError, ValueError, IndexError, psutil.Error):
        return []
    return [proc] if _alive(proc) else []


def _matching(fragment: str) -> list[psutil.Process]:
    me = os.getpid()
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if fragment and fragment in cmdline and proc.pid != me and _alive(proc):
            found.append(proc)
    return found
