"""The way back for faults on a local process: something must be able to start it again, and
opsproof must be allowed to signal it."""

import os
import shutil
from pathlib import Path

import psutil

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath
from opsproof.faults.feasibility.problem import Infeasible
from opsproof.runtimes.launched import StackState
from opsproof.runtimes.process import ProcessRuntime, ProcessTarget

_ENDS_DOWN = {"kill": "kills", "stop": "stops", "restart": "restarts"}
"""Process actions after which only a start brings the service back (a pause ends with
SIGCONT)."""


def needs_start(fault: cfg.FaultSpec) -> str | None:
    """What the fault does that leaves the service down until it is started, or None."""
    if isinstance(fault, cfg.ProcessFaultSpec):
        return _ENDS_DOWN.get(fault.action)
    if isinstance(fault, cfg.MemoryFaultSpec):
        return "lets the OOM killer kill"
    return None


def process_problems(
    service: str,
    spec: cfg.ProcessRuntimeSpec,
    fault: cfg.FaultSpec,
    experiment: str,
    state_dir: Path,
) -> list[Infeasible]:
    where: KeyPath = ("services", service, "runtime", "process")
    problems: list[Infeasible] = []
    verb = needs_start(fault)
    if verb is not None:
        what = f"experiment {experiment!r} {verb} process://{service}"
        if spec.component:
            problems += _component(where, spec.component, what, state_dir)
        else:
            problems += _start_command(where, spec.start, what, fault)
    problems += _signal(where, ProcessTarget(name=service, spec=spec, state_dir=state_dir))
    return problems


def _start_command(
    where: KeyPath, start: list[str] | None, what: str, fault: cfg.FaultSpec
) -> list[Infeasible]:
    if not start:
        instead = (
            "; or use action: pause, which SIGCONT undoes"
            if isinstance(fault, cfg.ProcessFaultSpec) and fault.action in ("kill", "stop")
            else ""
        )
        message = (
            f"{what}, and nothing could start it again: no start command declared; add "
            f"start: [program, arg, ...] here (the command its supervisor runs){instead}"
        )
        return [Infeasible(where, message)]
    if shutil.which(start[0]) is None:
        message = (
            f"{what}, and its start command could not run: {start[0]!r} is not an executable "
            "file or on PATH; write the program's full path"
        )
        return [Infeasible((*where, "start"), message)]
    return []


def _component(where: KeyPath, component: str, what: str, state_dir: Path) -> list[Infeasible]:
    """A reference-stack component is started again from the command its state file records."""
    state = StackState.load(state_dir)
    if state is None:
        message = (
            f"{what}, and it is started again from the reference stack's record, but no stack "
            f"is recorded in {state_dir}; start it (opsproof stack up) or pass --stack-state-dir"
        )
        return [Infeasible((*where, "component"), message)]
    if component not in state.components:
        known = ", ".join(state.components)
        message = (
            f"{what}, but the reference stack in {state_dir} has no component {component!r} to "
            f"start again (components: {known})"
        )
        return [Infeasible((*where, "component"), message)]
    return []


def _signal(where: KeyPath, target: ProcessTarget) -> list[Infeasible]:
    """Signal 0 asks the kernel whether we may signal a process, without signalling it."""
    for pid in ProcessRuntime(target).find():
        try:
            os.kill(pid, 0)
        except PermissionError:
            owner = _owner(pid)
            message = (
                f"opsproof (uid {os.geteuid()}) may not signal pid {pid} of "
                f"process://{target.name} (user {owner}); run it as root or as {owner}"
            )
            return [Infeasible(where, message)]
        except ProcessLookupError:
            continue
    return []


def _owner(pid: int) -> str:
    try:
        return str(psutil.Process(pid).username())
    except psutil.Error:
        return "another user"
