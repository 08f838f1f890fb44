"""The undo of faults on processes of a host (and of cgroup v2 faults on this machine), as
ledger steps that are shell scripts, and the same undo scheduled on the target before the fault
(the dead-man of ``unit_inverse``, for processes).

``DissolveGroupV2`` runs ``cgroup_v2.dissolve_script`` where the processes run (here, or over
SSH); ``ResumeProcessesOnHost`` sends SIGCONT to a paused one; ``StartProcessesOnHost`` runs
the declared start command if none is found (killed, stopped, or taken by the OOM killer). The
dead-man (``systemd-run --on-active``) runs them on the host if the runner dies or loses the
host; ``CancelHostUndo``, the last step of a clean revert, disarms it.
"""

import math
import shlex
from typing import Literal

from pydantic import BaseModel, ConfigDict

from opsproof.errors import StackError
from opsproof.faults import cgroup_v2
from opsproof.faults.unit_inverse import DEADMAN_PREFIX, for_systemd
from opsproof.runtimes.process import ProcessTarget
from opsproof.runtimes.remote_process import find_argv
from opsproof.support.text import one_line

STEP_TIMEOUT = 90.0


class _HostStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    target: ProcessTarget

    def script(self) -> str:
        raise NotImplementedError

    def apply(self) -> None:
        shell = cgroup_v2.shell_for(self.target.host)
        done = shell.run(self.script(), STEP_TIMEOUT)
        if not done.ok:
            raise StackError(f"{shell.where}: {one_line(done.err) or 'failed'}")


class DissolveGroupV2(_HostStep):
    """Processes back to their cgroups, the fault's stressors and holders killed, opsproof's
    scope stopped and gone."""

    op: Literal["cgroup_v2_dissolve"] = "cgroup_v2_dissolve"
    fault_id: str
    origins: dict[int, str]
    marker: str
    scores: dict[int, int] = {}
    """The service's ``oom_score_adj`` before the fault, for a fault that changes it."""

    def script(self) -> str:
        return cgroup_v2.dissolve_script(self.fault_id, self.origins, self.marker, self.scores)

    def describe(self) -> str:
        back = ", ".join(f"{pid} → {group}" for pid, group in self.origins.items())
        scores = ", ".join(f"{pid} → {score}" for pid, score in self.scores.items())
        return (
            f"move process://{self.target.name} back ({back}), "
            + (f"its OOM scores back ({scores}), " if scores else "")
            + f"kill the stressors, remove {cgroup_v2.scope_name(self.fault_id)}"
        )


def _found(target: ProcessTarget) -> str:
    """A shell command printing ``pid state rss cpu`` per process of ``target`` found."""
    return shlex.join(find_argv(target))


class ResumeProcessesOnHost(_HostStep):
    """SIGCONT to every process found; none found is nothing to resume."""

    op: Literal["host_process_resume"] = "host_process_resume"

    def script(self) -> str:
        return f"for p in $({_found(self.target)} | cut -d' ' -f1); do kill -s CONT $p; done; true"

    def describe(self) -> str:
        return f"SIGCONT process://{self.target.name} on {self.target.host_label}"


class StartProcessesOnHost(_HostStep):
    """The declared start command, detached, unless a process is found (a remote service the
    OOM killer took); a no-op without a start command (feasibility refused that case)."""

    op: Literal["host_process_start"] = "host_process_start"

    def script(self) -> str:
        spec = self.target.spec
        if not spec.start:
            return "true"
        found = _found(self.target)
        start = f"exec {shlex.join(spec.start)} </dev/null >/dev/null 2>&1"
        return (
            f'[ -n "$({found})" ] || setsid -f sh -c {shlex.quote(start)}; i=0; '
            f'until [ -n "$({found})" ] || [ $i -ge 30 ]; do i=$((i+1)); sleep 1; done; '
            f'[ -n "$({found})" ]'
        )

    def describe(self) -> str:
        return f"start process://{self.target.name} on {self.target.host_label} if it is down"


class CancelHostUndo(_HostStep):
    """Stop the dead-man's timer once everything before it was undone (``revert`` skips it
    after a failed step, so the host still undoes the fault by itself)."""

    op: Literal["host_deadman_cancel"] = "host_deadman_cancel"
    fault_id: str

    def script(self) -> str:
        timer = shlex.quote(f"{DEADMAN_PREFIX}{self.fault_id}.timer")
        return f"systemctl stop -- {timer} 2>/dev/null; ! systemctl is-active --quiet -- {timer}"

    def describe(self) -> str:
        return f"cancel the undo scheduled on the host ({DEADMAN_PREFIX}{self.fault_id}.timer)"


HostUndoStep = DissolveGroupV2 | ResumeProcessesOnHost | StartProcessesOnHost
HostInverseStep = HostUndoStep | CancelHostUndo
"""Members for the ledger's ``InverseStep`` union (discriminated by ``op``)."""


def arm_host_deadman(
    shell: cgroup_v2.Shell, fault_id: str, seconds: float, steps: list[HostUndoStep]
) -> None:
    """Schedule ``steps`` on the target ``seconds`` from now (``opsproof-undo-<id>``: a
    transient timer and oneshot service that unload themselves once done)."""
    script = for_systemd("\n".join(step.script() for step in steps))
    argv = [
        "systemd-run", f"--unit={DEADMAN_PREFIX}{fault_id}",
        f"--on-active={max(1, math.ceil(seconds))}s",
        "--timer-property=AccuracySec=1s", "--timer-property=RemainAfterElapse=no",
        "--property=Type=oneshot", "--collect",
        f"--description=opsproof: undo fault {fault_id}", "--", "/bin/sh", "-c", script,
    ]  # fmt: skip
    done = shell.run(shlex.join(argv), STEP_TIMEOUT)
    if not done.ok:
        raise StackError(
            f"{shell.where}: could not schedule the fault's undo there "
            f"({one_line(done.err) or 'failed'}); nothing was injected"
        )
