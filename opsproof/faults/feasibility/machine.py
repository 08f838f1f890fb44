"""What this machine lets opsproof do: programs installed, cgroup controllers writable, root
for rules and OOM scores, a writable ledger and fill directory. Reads only: nothing is
mounted, created or written here (a dry run touches nothing)."""

import os
import shutil
from pathlib import Path

from opsproof.config.problems import KeyPath
from opsproof.faults import cgroups
from opsproof.faults.feasibility.problem import Infeasible
from opsproof.faults.ledger import ledger_path

PROC_CGROUPS = Path("/proc/cgroups")


def program(path: KeyPath, name: str, package: str, needed_for: str) -> list[Infeasible]:
    if shutil.which(name):
        return []
    message = f"{name} is not installed and {needed_for}; install it (apt-get install {package})"
    return [Infeasible(path, message)]


def root(path: KeyPath, needed_for: str) -> list[Infeasible]:
    if os.geteuid() == 0:
        return []
    return [Infeasible(path, f"{needed_for}, which needs root; run opsproof as root")]


def cgroup(path: KeyPath, controller: str, needed_for: str) -> list[Infeasible]:
    """The v1 controller is mounted and writable, or (net_cls) can be mounted by root."""
    hierarchy = cgroups.ROOT / controller
    if (hierarchy / "cgroup.procs").is_file():
        if os.access(hierarchy, os.W_OK):
            return []
        why = f"{hierarchy} is not writable for uid {os.geteuid()}"
    elif controller == "net_cls" and _enabled(controller) and os.geteuid() == 0:
        return []  # cgroups.hierarchy mounts it when the fault is prepared
    else:
        why = f"the cgroup v1 controller {controller!r} is not mounted at {hierarchy}"
    message = f"{why}, and {needed_for}; run as root on a host with cgroup v1 controllers"
    return [Infeasible(path, message)]


def _enabled(controller: str) -> bool:
    try:
        lines = PROC_CGROUPS.read_text().splitlines()
    except OSError:
        return False
    return any(line.split()[:1] == [controller] and line.split()[-1] == "1" for line in lines)


def writable_dir(path: KeyPath, directory: Path, needed_for: str) -> list[Infeasible]:
    if not directory.is_dir():
        message = f"{directory} is not a directory and {needed_for}; point it at the data directory"
        return [Infeasible(path, message)]
    if os.access(directory, os.W_OK | os.X_OK):
        return []
    message = f"{directory} is not writable for uid {os.geteuid()} and {needed_for}"
    return [Infeasible(path, f"{message}; run as its owner or as root")]


def ledger(path: KeyPath, state_dir: Path) -> list[Infeasible]:
    """Every fault and its undo are written to the ledger before injection: it must be
    writable (or creatable) first."""
    target = ledger_path(state_dir)
    existing = target.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    writable = existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
    if writable and (not target.exists() or os.access(target, os.W_OK)):
        return []
    message = (
        f"the fault ledger {target} cannot be written (nearest existing: {existing}), and each "
        "fault's undo is recorded there before it is injected; pass --stack-state-dir DIR "
        "(or set OPSPROOF_STATE_DIR) to a writable directory"
    )
    return [Infeasible(path, message)]
