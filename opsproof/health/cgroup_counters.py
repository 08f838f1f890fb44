"""OOM kills counted by the kernel in a local process's memory cgroup (v2 ``memory.events``,
v1 ``memory.oom_control``), and whether that cgroup is the service's own: a counter shared
with other processes says nothing about this service."""

from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class OomCounter:
    """``kills`` is None when not read; ``why`` then says why, ``shared`` when the cgroup
    holds other processes too (not the service's own counter)."""

    kills: int | None
    scope: str
    why: str = ""
    shared: bool = False


def controller_dir(pid: int, controller: str) -> Path | None:
    """``pid``'s cgroup directory for ``controller`` (v1), else its unified (v2) one; None
    when /proc/PID/cgroup names neither."""
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    rows = [line.split(":", 2) for line in lines]
    for _, controllers, path in rows:
        if controller in controllers.split(","):
            return CGROUP_ROOT / controllers / path.lstrip("/")
    for hierarchy, controllers, path in rows:
        if hierarchy == "0" and not controllers:
            return CGROUP_ROOT / path.lstrip("/")
    return None


def oom_kills(pids: tuple[int, ...], *, own_only: bool) -> OomCounter:
    """The OOM kill counter of the memory cgroup of ``pids[0]``; with ``own_only`` a cgroup
    that holds processes other than ``pids`` is reported as shared, its count not taken."""
    if not pids:
        return OomCounter(None, "", "no process to read")
    directory = controller_dir(pids[0], "memory")
    if directory is None:
        return OomCounter(None, "", f"/proc/{pids[0]}/cgroup names no memory cgroup")
    v1 = (directory / "memory.oom_control").exists()
    name = "memory.oom_control" if v1 else "memory.events"
    scope = f"cgroup {directory.relative_to(CGROUP_ROOT)}"
    try:
        text = (directory / name).read_text()
        members = {int(pid) for pid in (directory / "cgroup.procs").read_text().split()}
    except OSError as error:
        return OomCounter(None, scope, f"cannot read {directory / name}: {error.strerror}")
    if own_only and not members <= set(pids):
        return OomCounter(None, scope, f"{scope} holds other processes too", shared=True)
    counters = dict(line.split(" ", 1) for line in text.splitlines() if " " in line)
    if "oom_kill" not in counters:
        return OomCounter(None, scope, f"{directory / name} has no oom_kill (kernel < 4.13)")
    return OomCounter(int(counters["oom_kill"]), scope)
