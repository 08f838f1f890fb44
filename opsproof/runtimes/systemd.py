"""A systemd unit on a host reached over SSH, acted on through ``systemctl`` itself.

systemd already knows the unit's processes (its cgroup), how to stop it (KillMode, the stop
timeout) and how to bring it back (Restart=), so this runtime asks systemd rather than
signalling PIDs: kill is ``systemctl kill --signal=SIGKILL``, pause the cgroup v2 freezer
(``systemctl freeze``/``thaw``), resources are read from the unit's own cgroup. Every command
that changes the host runs through ``sudo -n``; reads need no privilege.

The config wiring (``runtime: {systemd: {unit, host}}``) and the faults built on it are issue
#17's next steps; this is the contract they plug into (runtimes/base.py).
"""

import shlex
import subprocess
from collections.abc import Sequence

from opsproof.errors import StackError
from opsproof.runtimes.base import Resources
from opsproof.support.text import one_line
from opsproof.transport.ssh import CommandResult, SshSession
from opsproof.transport.systemctl import UnitState, read_unit

SYSTEMCTL_TIMEOUT = 30.0
CGROUP_ROOT = "/sys/fs/cgroup"


class SystemdRuntime:
    """One unit on one host, through the run's SSH session to it."""

    def __init__(self, session: SshSession, unit: str) -> None:
        self.session = session
        self.unit = unit

    @property
    def id(self) -> str:
        endpoint = self.session.endpoint
        return f"systemd://{endpoint.host}:{endpoint.port}/{self.unit}"

    def state(self) -> UnitState:
        return read_unit(self.session, self.unit)

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

    def _cgroup_file(self, name: str) -> str:
        group = self.control_group()
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
        done = self.session.run(argv, timeout=timeout, sudo=sudo)
        if check and not done.ok:
            why = one_line(done.stderr.decode("utf-8", "replace")) or f"exit {done.exit_status}"
            raise StackError(f"{self.id}: {shlex.join(argv)} failed: {why}")
        return done
