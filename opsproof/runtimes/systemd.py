"""A systemd unit on a host reached over SSH, acted on through ``systemctl`` itself.

systemd already knows the unit's processes (its cgroup), how to stop it (KillMode, the stop
timeout) and how to bring it back (Restart=), so this runtime asks systemd rather than
signalling PIDs: kill is ``systemctl kill --signal=SIGKILL``, pause the cgroup v2 freezer
(``systemctl freeze``/``thaw``), resources are read from the unit's own cgroup. Every command
that changes the host runs through ``sudo -n``; reads need no privilege.

Services declare it as ``runtime: {systemd: {unit, host}}``; :class:`SystemdTarget` is the
serialisable handle the fault ledger stores, enough to reach the unit again from another
process (the watchdog, ``opsproof revert``).
"""

import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from opsproof.config.models import Environment, HostSpec
from opsproof.errors import SafetyError, StackError
from opsproof.runtimes.base import Resources
from opsproof.runtimes.on_host import run_on_host
from opsproof.transport.pool import SESSIONS
from opsproof.transport.ssh import CommandResult, SshSession
from opsproof.transport.systemctl import UnitState, read_unit, show

SYSTEMCTL_TIMEOUT = 30.0
CGROUP_ROOT = "/sys/fs/cgroup"
RUNTIME_DROP_INS = "/run/systemd/system.control"
"""Where ``systemctl set-property --runtime`` writes its drop-ins (one file per property)."""


class SystemdTarget(BaseModel):
    """A service's unit and the host it runs on: plain data for the ledger."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    unit: str
    host: HostSpec

    @property
    def id(self) -> str:
        return f"systemd://{self.host.url.removeprefix('ssh://')}/{self.unit}"


def systemd_target(environment: Environment, name: str) -> SystemdTarget | None:
    """The unit of service ``name`` when it declares the systemd runtime, else None; a unit
    on this machine (no ``host``) is refused saying why."""
    runtime = getattr(environment.services[name], "runtime", None)
    if runtime is None or runtime.systemd is None:
        return None
    spec = runtime.systemd
    if spec.host is None:
        raise SafetyError(f"services.{name}.runtime.systemd: {local_systemd_refusal()}")
    return SystemdTarget(name=name, unit=spec.unit, host=environment.hosts[spec.host])


def local_systemd_refusal() -> str:
    """Why a unit without ``host`` cannot be acted on here."""
    try:
        init = Path("/proc/1/comm").read_text().strip()
    except OSError:
        init = "unknown"
    if not Path("/run/systemd/system").is_dir():
        return (
            f"no host: named, and this machine's PID 1 is {init!r}, not systemd, so it has no "
            "units; name the machine that runs the unit under hosts: and here as host:"
        )
    return (
        "no host: named; units on this machine are reached over SSH too: declare it under "
        "hosts: (url: ssh://user@localhost) and name it here as host:"
    )


class SystemdRuntime:
    """One unit on one host, through the run's SSH session to it."""

    def __init__(
        self, session: SshSession | None, unit: str, target: SystemdTarget | None = None
    ) -> None:
        if session is None and target is None:
            raise ValueError("a session or a target to open one from")
        self._session = session
        self.unit = unit
        self.target = target
        """The declared service's handle, for the ledger (None: a unit named in code)."""

    @classmethod
    def of(cls, target: SystemdTarget) -> "SystemdRuntime":
        """The unit through the process's one session to its host, opened on first use (so
        describing a fault touches nothing)."""
        return cls(None, target.unit, target)

    @property
    def session(self) -> SshSession:
        if self._session is None:
            assert self.target is not None
            self._session = SESSIONS.session(self.target.host)
        return self._session

    @property
    def id(self) -> str:
        if self.target is not None:
            return self.target.id
        endpoint = self.session.endpoint
        return f"systemd://{endpoint.user}@{endpoint.host}:{endpoint.port}/{self.unit}"

    def state(self) -> UnitState:
        return read_unit(self.session, self.unit)

    def unit_property(self, name: str) -> str:
        """One property as systemctl shows it (``MemoryMax`` is ``infinity`` or bytes)."""
        return show(self.session, self.unit, (name,))[name]

    def set_runtime_property(self, name: str, value: str) -> None:
        """``systemctl set-property --runtime``: in force until reboot, in a drop-in under
        /run (:meth:`runtime_drop_in`), never in /etc."""
        self._run(
            ["systemctl", "set-property", "--runtime", "--", self.unit, f"{name}={value}"],
            sudo=True,
        )

    def runtime_drop_in(self, name: str) -> str:
        """The file ``set-property --runtime`` writes for property ``name``."""
        return f"{RUNTIME_DROP_INS}/{self.unit}.d/50-{name}.conf"

    def exists(self, path: str) -> bool:
        return self._run(["test", "-e", path], check=False).ok

    def cgroup_path(self) -> str:
        """The unit's cgroup directory on the host (empty when systemd reports none)."""
        group = self.control_group()
        return f"{CGROUP_ROOT}{group}" if group else ""

    def cgroup_counters(self, name: str, group: str = "") -> dict[str, int]:
        """A flat-keyed cgroup file (memory.events, cpu.stat) as numbers; empty when the
        unit has no cgroup (it is down) or the file is missing."""
        text = self._cgroup_file(name, group)
        pairs = (line.split(" ", 1) for line in text.splitlines() if " " in line)
        return {key: int(value) for key, value in pairs if value.strip().isdigit()}

    def spawn_in_cgroup(self, argv: Sequence[str]) -> None:
        """Start ``argv`` as root on the host, detached, inside the unit's own cgroup (it
        counts against the unit's limits like the service's own processes)."""
        procs = f"{self.cgroup_path()}/cgroup.procs"
        if procs.startswith("/cgroup.procs"):
            raise StackError(f"{self.id}: the unit has no cgroup (is it running?)")
        # the shell joins the cgroup, then becomes the program: nothing runs outside it
        script = f"echo $$ > {shlex.quote(procs)} && exec {shlex.join(argv)}"
        self._run(["setsid", "-f", "sh", "-c", f"{script} </dev/null >/dev/null 2>&1"], sudo=True)

    def find(self) -> list[int]:
        """Every process in the unit's cgroup (empty when it is down)."""
        procs = self._cgroup_file("cgroup.procs")
        return [int(pid) for pid in procs.split()] if procs else []

    def kill(self) -> None:
        self._systemctl("kill", "--signal=SIGKILL")

    def stop(self, timeout: float) -> None:
        self._systemctl("stop", timeout=timeout)

    def start(self, timeout: float) -> None:
        """``systemctl start`` waits for the unit's own readiness (Type=notify, forking)."""
        self._systemctl("start", timeout=timeout)

    def restart(self, timeout: float) -> None:
        self._systemctl("restart", timeout=timeout)

    def pause(self) -> None:
        """The cgroup v2 freezer: every process of the unit stopped, sockets held."""
        self._systemctl("freeze")

    def resume(self) -> None:
        """Thaw; idempotent (thawing a running unit succeeds)."""
        self._systemctl("thaw")

    def exec(self, argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` on the host as root (not inside the unit's cgroup or environment)."""
        done = self.session.run(argv, timeout=timeout, sudo=True)
        return subprocess.CompletedProcess(
            list(argv),
            done.exit_status,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )

    def resources(self) -> Resources:
        """The unit cgroup's PIDs, memory charge (memory.current: page cache included, unlike
        RSS) and CPU time (cpu.stat usage_usec)."""
        pids = tuple(self.find())
        if not pids:
            return Resources((), 0, 0.0)
        memory = int(self._cgroup_file("memory.current") or 0)
        stat = dict(
            line.split(" ", 1) for line in self._cgroup_file("cpu.stat").splitlines() if " " in line
        )
        return Resources(pids, memory, int(stat.get("usage_usec", 0)) / 1e6)

    def control_group(self) -> str:
        """The unit's cgroup path below /sys/fs/cgroup, e.g. /system.slice/redis-server.service."""
        shown = self._run(["systemctl", "show", "--value", "--property=ControlGroup", self.unit])
        return shown.text().strip()

    def _cgroup_file(self, name: str, group: str = "") -> str:
        group = group or self.control_group()
        if not group:
            return ""
        done = self._run(["cat", f"{CGROUP_ROOT}{group}/{name}"], check=False)
        return done.text().strip() if done.ok else ""

    def _systemctl(self, verb: str, *options: str, timeout: float = SYSTEMCTL_TIMEOUT) -> None:
        self._run(["systemctl", verb, *options, "--", self.unit], timeout=timeout, sudo=True)

    def _run(
        self,
        argv: list[str],
        *,
        timeout: float = SYSTEMCTL_TIMEOUT,
        sudo: bool = False,
        check: bool = True,
    ) -> CommandResult:
        return run_on_host(self.session, self.id, argv, sudo=sudo, check=check, timeout=timeout)
