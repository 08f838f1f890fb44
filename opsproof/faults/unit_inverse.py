"""Inverse operations for faults on systemd units, and the undo scheduled on the target itself.

Each step is plain data (the unit, its host, the values to put back) and one shell snippet
that is idempotent. The run, the watchdog and ``opsproof revert`` apply the snippet over SSH,
one step at a time (so a failure names its step); the target's own **dead-man** runs all of
them in one transient systemd service when a timer fires, so the fault is undone on the
target even if the runner was killed or can no longer reach it
(``systemd-run --on-active``, armed before the fault is injected, cancelled by the last step
of a clean revert).
"""

import math
import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict

from opsproof.errors import StackError
from opsproof.runtimes.systemd import SystemdRuntime, SystemdTarget

STEP_TIMEOUT = 90.0
"""Seconds one step may take on the host: a start waits for the unit's own readiness."""
DEADMAN_PREFIX = "opsproof-undo-"


class _UnitStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target: SystemdTarget

    def script(self) -> str:
        """The step as one idempotent shell snippet, run as root on the host."""
        raise NotImplementedError

    def apply(self) -> None:
        runtime = SystemdRuntime.of(self.target)
        done = runtime.session.run(["sh", "-c", self.script()], timeout=STEP_TIMEOUT, sudo=True)
        if not done.ok:
            why = done.why()
            raise StackError(f"{self.target.id}: {why}")


def _unit(step: _UnitStep) -> str:
    return shlex.quote(step.target.unit)


class StartUnit(_UnitStep):
    """Start the unit unless it runs (a failed unit's start limit reset first)."""

    op: Literal["unit_start"] = "unit_start"

    def script(self) -> str:
        unit = _unit(self)
        return (
            f"systemctl is-active --quiet -- {unit} || {{ systemctl reset-failed -- {unit}; "
            f"systemctl start -- {unit}; }}"
        )

    def describe(self) -> str:
        return f"start {self.target.id} if it is not running"


class ThawUnit(_UnitStep):
    """``systemctl thaw``; a unit that is not active has nothing frozen."""

    op: Literal["unit_thaw"] = "unit_thaw"

    def script(self) -> str:
        unit = _unit(self)
        return f"systemctl thaw -- {unit} || ! systemctl is-active --quiet -- {unit}"

    def describe(self) -> str:
        return f"systemctl thaw {self.target.id}"


class StopUnitStressors(_UnitStep):
    """SIGKILL the processes in the unit's cgroup whose command line carries ``marker`` (the
    fault's stressors; the service runs other programs)."""

    op: Literal["unit_stressors"] = "unit_stressors"
    cgroup: str
    marker: str

    def script(self) -> str:
        procs = shlex.quote(f"{self.cgroup}/cgroup.procs")
        marker = shlex.quote(self.marker)
        return (
            f"for pid in $(cat {procs} 2>/dev/null); do "
            f"grep -qaF -- {marker} /proc/$pid/cmdline 2>/dev/null && kill -9 $pid; done; true"
        )

    def describe(self) -> str:
        return f"kill the stressors ({self.marker}) in {self.cgroup}"


class RestoreUnitProperty(_UnitStep):
    """A resource property back to the value it had (``set-property --runtime``), and the
    runtime drop-in that carried the fault's value removed unless one was there before: the
    unit is left exactly as found, now and after the next daemon-reload."""

    op: Literal["unit_property"] = "unit_property"
    name: str
    value: str
    drop_in: str
    drop_in_existed: bool

    def script(self) -> str:
        restore = shlex.join(
            ["systemctl", "set-property", "--runtime", "--", self.target.unit,
             f"{self.name}={self.value}"]
        )  # fmt: skip
        if self.drop_in_existed:
            return restore
        return f"{restore} && rm -f -- {shlex.quote(self.drop_in)}"

    def describe(self) -> str:
        return f"{self.name} of {self.target.id} back to {self.value}"


class CancelTargetUndo(_UnitStep):
    """Stop the dead-man's timer once everything before it was undone (``revert`` skips this
    step after a failed one, so the target still undoes the fault by itself)."""

    op: Literal["unit_deadman_cancel"] = "unit_deadman_cancel"
    fault_id: str

    def script(self) -> str:
        timer = shlex.quote(f"{DEADMAN_PREFIX}{self.fault_id}.timer")
        # a timer that fired (or was never armed) is no longer loaded: nothing to cancel
        return f"systemctl stop -- {timer} 2>/dev/null; ! systemctl is-active --quiet -- {timer}"

    def describe(self) -> str:
        return f"cancel the undo scheduled on the host ({DEADMAN_PREFIX}{self.fault_id}.timer)"


class DeleteHostTable(_UnitStep):
    """Delete the fault's own nftables table on the host; a table already gone is done."""

    op: Literal["unit_nft_table"] = "unit_nft_table"
    table: str

    def script(self) -> str:
        table = shlex.quote(self.table)
        return (
            f"nft delete table inet {table} 2>/dev/null; "
            f"! nft list table inet {table} >/dev/null 2>&1"
        )

    def describe(self) -> str:
        return f"delete nftables table inet {self.table} on {self.target.host.url}"


class RemoveHostFile(_UnitStep):
    """Remove the file a disk fill allocated on the host (gone already: done)."""

    op: Literal["unit_fill_file"] = "unit_fill_file"
    path: str

    def script(self) -> str:
        return f"rm -f -- {shlex.quote(self.path)}"

    def describe(self) -> str:
        return f"remove {self.path} on {self.target.host.url}"


UnitUndoStep = (
    StartUnit | ThawUnit | StopUnitStressors | RestoreUnitProperty | DeleteHostTable
    | RemoveHostFile
)  # fmt: skip
"""The steps a dead-man runs on the target."""
UnitInverseStep = UnitUndoStep | CancelTargetUndo
"""Members for the ledger's ``InverseStep`` union (discriminated by ``op``)."""


def for_systemd(script: str) -> str:
    """``script`` as an ExecStart= argument: systemd substitutes ``$NAME`` (a word of its own)
    and ``${NAME}`` from the unit's environment and turns ``$$`` into ``$``, even in a transient
    unit's command, so every ``$`` is doubled (``kill -9 $pid`` would lose its PID, Perl's
    ``$$`` its meaning)."""
    return script.replace("$", "$$")


def arm_deadman(
    runtime: SystemdRuntime, fault_id: str, seconds: float, steps: list[UnitUndoStep]
) -> str:
    """Schedule ``steps`` on the target ``seconds`` from now as a transient timer and oneshot
    service (``opsproof-undo-<id>``) that unload themselves once done; its name."""
    name = f"{DEADMAN_PREFIX}{fault_id}"
    script = for_systemd("\n".join(step.script() for step in steps))
    argv = [
        "systemd-run", f"--unit={name}", f"--on-active={max(1, math.ceil(seconds))}s",
        "--timer-property=AccuracySec=1s", "--timer-property=RemainAfterElapse=no",
        "--property=Type=oneshot", "--collect",
        f"--description=opsproof: undo fault {fault_id} on {runtime.unit}",
        "--", "/bin/sh", "-c", script,
    ]  # fmt: skip
    done = runtime.session.run(argv, timeout=STEP_TIMEOUT, sudo=True)
    if not done.ok:
        why = done.why()
        raise StackError(
            f"{runtime.id}: could not schedule the fault's undo on the host ({why}); "
            "nothing was injected"
        )
    return name
