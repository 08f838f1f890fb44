"""Programs as process groups: start detached, tell alive from gone, stop without leftovers."""

import os
import pwd
import signal
import subprocess
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from opsproof.errors import StackError
from opsproof.support.waiting import POLL_INTERVAL

GRACE_SHARE = 0.6
"""Share of a stop timeout given to the graceful signal before SIGKILL."""


@dataclass
class ComponentState:
    """One program started as a process group of its own: how to start it again, where it
    listens and logs. The reference stack records one per component in its state file."""

    name: str
    pid: int
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    """Variables added to the launcher's environment; needed to start it again identically."""
    cwd: str | None = None
    log_file: str = ""
    port: int | None = None
    url: str | None = None
    user: str | None = None
    """Run as this user (PostgreSQL refuses to run as root)."""
    create_time: float | None = None
    """psutil's create time of ``pid``: tells a live component from a recycled PID. Whoever
    records a new ``pid`` records this too, or sets it to None (then only the PID is checked)."""


def os_identity(name: str, user: str | None) -> tuple[int | None, int | None]:
    """The uid and gid component ``name`` switches to: as root, for a declared user only."""
    if not user or os.geteuid() != 0:
        return None, None
    try:
        record = pwd.getpwnam(user)
    except KeyError:
        raise StackError(
            f"{name}: user {user!r} does not exist; create it (PostgreSQL refuses to run as root)"
        ) from None
    return record.pw_uid, record.pw_gid


def spawn(component: ComponentState) -> None:
    """Start ``component`` in a session of its own (so it outlives the caller and its whole
    group can be signalled), output appended to its log; record its pid and create time."""
    uid, gid = os_identity(component.name, component.user)
    with Path(component.log_file).open("ab") as log:
        proc = subprocess.Popen(
            component.command,
            cwd=component.cwd,
            env={**os.environ, **component.env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=uid,
            group=gid,
            extra_groups=[] if uid is not None else None,
        )
    component.pid = proc.pid
    try:
        component.create_time = psutil.Process(proc.pid).create_time()
    except psutil.Error:
        component.create_time = None
    # The component is meant to outlive this handle: dropping it is not a leak, so silence
    # Popen's "still running" ResourceWarning. Exited children are reaped by terminate().
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        del proc


def _reap(pid: int) -> None:
    """Collect an exited child of ours, so it does not linger as a zombie."""
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _running(proc: psutil.Process) -> bool:
    _reap(proc.pid)
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


START_TOLERANCE_S = 1.5
"""How far a process's start time may read from the recorded one and still be the same process.
psutil adds the boot time of /proc/stat, whole seconds that the kernel derives from the wall
clock: a clock slewed by NTP moves it by a second now and then, and every process recorded by
another process (``opsproof stack up``) then seemed to have started a second off; with 0.1 s
the whole stack read as dead at once. A recycled PID starts far later than that."""


def same_start(started: float, recorded: float) -> bool:
    """Whether a process that psutil says ``started`` is the one recorded as starting then,
    whichever process recorded it (see ``START_TOLERANCE_S``)."""
    return abs(started - recorded) <= START_TOLERANCE_S


def leader(component: ComponentState) -> psutil.Process | None:
    """The component's main process, if it still runs (not a zombie, not a recycled PID)."""
    if component.pid <= 0:
        return None
    try:
        proc = psutil.Process(component.pid)
        if component.create_time is not None and not same_start(
            proc.create_time(), component.create_time
        ):
            return None
    except psutil.Error:
        return None
    return proc if _running(proc) else None


def is_alive(component: ComponentState) -> bool:
    return leader(component) is not None


def members(component: ComponentState) -> list[psutil.Process]:
    """Running processes of the component's process group that run its program: a dead
    leader's orphans (PostgreSQL backends, nginx workers) included, strangers that happen to
    reuse the group id excluded."""
    if component.pid <= 0:
        return []
    program = os.path.realpath(component.command[0])
    found = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == component.pid and proc.exe() == program and _running(proc):
                found.append(proc)
        except (OSError, psutil.Error):
            continue
    return found


def running_processes(components: Sequence[ComponentState]) -> dict[str, list[psutil.Process]]:
    """Every running process of each component, leaders and orphans alike; empty when stopped."""
    return {c.name: members(c) for c in components}


def _signal(proc: psutil.Process, sig: signal.Signals) -> None:
    with suppress(psutil.Error):
        proc.send_signal(sig)


def terminate(
    components: Sequence[ComponentState],
    stop_signal: Callable[[str], signal.Signals],
    timeout: float,
) -> list[str]:
    """Stop the components together: their graceful signal to each live leader (or to the
    orphans of a dead one), SIGCONT so paused ones can act on it, SIGKILL to what is left
    after the grace period. Returns the names of those that were running."""
    start = time.monotonic()
    deadline, grace_end = start + timeout, start + timeout * GRACE_SHARE
    groups = {c.name: members(c) for c in components}
    was_running = [c.name for c in components if groups[c.name]]
    for component in components:
        main = leader(component)
        for proc in [main] if main else groups[component.name]:
            _signal(proc, stop_signal(component.name))
            _signal(proc, signal.SIGCONT)
    while True:
        # Scanned afresh each time: a child forked after the signal (a PostgreSQL backend for
        # a late connection) may outlive its leader, and stopped means none of them is left.
        left = {c.name: procs for c in components if (procs := members(c))}
        if not left:
            break
        now = time.monotonic()
        if now >= deadline:
            pids = {name: [p.pid for p in procs] for name, procs in left.items()}
            raise StackError(
                f"still running {timeout:g} s after the stop signal and SIGKILL: {pids}"
            )
        if now >= grace_end:
            for procs in left.values():
                for proc in procs:
                    _signal(proc, signal.SIGKILL)
        time.sleep(POLL_INTERVAL)
    return was_running


def log_tail(path: str, lines: int = 20) -> str:
    """The last ``lines`` lines of a log, for error messages."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"(log {path} unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or f"(log {path} is empty)"
