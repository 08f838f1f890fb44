"""cgroup v1 scopes for faults: put a service (and a stressor) under a limit, then undo it.

Only cgroup v1 hierarchies are handled (each controller mounted under /sys/fs/cgroup); a
machine without the controller gets a SafetyError that says what is missing.
"""

import subprocess
import time
from collections.abc import Collection
from contextlib import suppress
from pathlib import Path

import psutil

from opsproof.errors import SafetyError

ROOT = Path("/sys/fs/cgroup")
SCOPE_PARENT = "opsproof"
"""Every scope opsproof creates lives under ``<controller>/opsproof/``."""
MOUNT_TIMEOUT = 10.0


def hierarchy(controller: str) -> Path:
    """The mount point of a v1 controller; net_cls is mounted on demand (nothing uses it)."""
    path = ROOT / controller
    if (path / "cgroup.procs").is_file():
        return path
    if controller == "net_cls":
        path.mkdir(exist_ok=True)
        subprocess.run(
            ["mount", "-t", "cgroup", "-o", "net_cls", "net_cls", str(path)],
            check=False,
            capture_output=True,
            timeout=MOUNT_TIMEOUT,
        )
        if (path / "cgroup.procs").is_file():
            return path
    raise SafetyError(
        f"cgroup v1 controller {controller!r} is not mounted at {path}; this fault needs it "
        "(root, and a kernel with cgroup v1 controllers)"
    )


def scope_path(controller: str, name: str) -> Path:
    return hierarchy(controller) / SCOPE_PARENT / name


def create(controller: str, name: str) -> Path:
    path = scope_path(controller, name)
    path.mkdir(parents=True, exist_ok=True)
    return path


def current(controller: str, pid: int) -> str:
    """The cgroup of ``pid`` in ``controller``'s hierarchy, e.g. ``/`` or ``/opsproof/x``."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return "/"


def move(controller: str, pid: int, cgroup: str) -> None:
    """Move ``pid`` with all its threads into ``cgroup`` (a hierarchy-relative path)."""
    base = hierarchy(controller)
    target = base / cgroup.lstrip("/")
    if not (target / "cgroup.procs").is_file():
        target = base  # its original cgroup is gone: the root is the closest to "unlimited"
    with suppress(ProcessLookupError, OSError):
        (target / "cgroup.procs").write_text(str(pid))


def members(path: Path) -> list[int]:
    try:
        return [int(pid) for pid in (path / "cgroup.procs").read_text().split()]
    except FileNotFoundError:
        return []


def alone_in(controller: str, pids: Collection[int]) -> str | None:
    """The cgroup ``pids`` share when nothing else runs in it or below it (a systemd unit's,
    a container's), else None. Never the root, nor a scope opsproof made."""
    homes = {current(controller, pid) for pid in pids}
    if len(homes) != 1:
        return None
    home = homes.pop()
    if home == "/" or home.startswith(f"/{SCOPE_PARENT}/"):
        return None
    path = hierarchy(controller) / home.lstrip("/")
    subtree = [path, *(sub for sub in path.rglob("*") if (sub / "cgroup.procs").is_file())]
    found = {pid for cgroup in subtree for pid in members(cgroup)}
    return home if found and found <= set(pids) else None


def moves_charges(path: Path) -> bool:
    """Make ``path`` take the memory of the processes moved into it along with them (cgroup v1
    ``memory.move_charge_at_immigrate``: 1 anonymous, 2 mapped files; set on the destination,
    before the move). False where the kernel refuses it: Linux 6.x removed charge moving, and
    a moved process then leaves every page it already has charged to its old cgroup."""
    try:
        write(path, "memory.move_charge_at_immigrate", "3")
    except OSError:
        return False
    return True


def write(path: Path, key: str, value: str) -> None:
    (path / key).write_text(value)


def read_number(path: Path, key: str) -> int:
    """A one-number file (``memory.failcnt``); 0 when it cannot be read."""
    try:
        return int((path / key).read_text().strip())
    except (OSError, ValueError):
        return 0


def read_stat(path: Path, key: str) -> dict[str, int]:
    """A ``name value`` file (``cpu.stat``, ``memory.oom_control``) as numbers."""
    found = {}
    with suppress(FileNotFoundError):
        for line in (path / key).read_text().splitlines():
            name, _, value = line.partition(" ")
            if value.strip().isdigit():
                found[name] = int(value)
    return found


def dissolve(controller: str, name: str, origins: dict[int, str], timeout: float) -> None:
    """Idempotent undo of a scope: processes we put there go back where they were, any other
    process in it (a stressor) is killed, and the scope is removed once empty."""
    path = scope_path(controller, name)
    if not path.is_dir():
        return
    for pid in members(path):
        if pid in origins:
            move(controller, pid, origins[pid])
        else:
            with suppress(psutil.Error):
                psutil.Process(pid).kill()
    deadline = time.monotonic() + timeout
    while True:
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            # killed processes leave their cgroup a moment after SIGKILL
            if time.monotonic() >= deadline:
                raise SafetyError(f"{path}: still has processes {members(path)}") from None
            for pid in members(path):
                if pid in origins:
                    move(controller, pid, origins[pid])
            time.sleep(0.05)
