"""A cgroup v2 group of opsproof's own for a memory or CPU fault on processes, here or on a host
reached over SSH, written as shell scripts run as root in one round trip each.

**Where.** systemd owns the cgroup tree and writes in it only where it delegated: a group made
by hand in a slice is one systemd may not expect. So the group is a transient *delegated scope*
``opsproof-fault-<id>.scope`` in system.slice (``systemd-run --scope -p Delegate=yes``): systemd
enables the controllers on the path to it, knows it (``systemctl status`` names it), and hands
the subtree below it to opsproof. A scope lives as long as a process is in it, so a holder
(``sleep``) is its first process. cgroup v2's *no internal processes* rule forbids a group with
processes to enable controllers for its children, so the holder is moved into a leaf
``holder/`` before ``+memory +cpu`` goes into the scope's cgroup.subtree_control; the service
and the stressor go into the other leaf ``fault/``, which carries memory.max (memory.swap.max 0,
so the limit cannot be dodged into swap) or cpu.max and whose memory.events and cpu.stat are
the proof. The holder keeps both leaves readable after the OOM killer emptied ``fault/``.

**Back.** Each process goes back to the group it came from. A group that only the service
lived in (a login's session scope, abandoned after logout) would be removed by systemd the
moment it emptied, leaving nowhere to go back to, so a holder process is put into each origin
first and killed only after the move back. The undo never stops the scope while a process that
is not the fault's own is still in it: stopping would kill the service.

**Charges.** cgroup v2 never moves memory already charged when a process changes group
(``memory.move_charge_at_immigrate`` is v1 only): the service's resident pages stay charged to
its original group, and only what it allocates after the move counts against memory.max. The
limit therefore bites the stressor and the service's new allocations, not its working set; an
OOM kill counted in ``fault/memory.events`` proves the kernel acted under opsproof's limit in
opsproof's group, and the victim is chosen by its whole RSS and ``oom_score_adj`` (the stressor
makes itself the last choice when the service is to be the victim), wherever its pages are
charged. The figures say how much was charged to the group.
"""

import shlex
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from opsproof.config.models import HostSpec
from opsproof.errors import StackError
from opsproof.support.text import one_line
from opsproof.transport.pool import SESSIONS
from opsproof.transport.ssh import SshSession

CGROUP_ROOT = "/sys/fs/cgroup"
SLICE = "system.slice"
SCOPE_PREFIX = "opsproof-fault-"
SCRIPT_TIMEOUT = 60.0
CONTROLLERS = ("memory", "cpu")
KILL_MARKED = r"""
my $marker = shift;
opendir my $d, "/proc" or die;
for my $pid (grep { /^\d+$/ && $_ != $$ } readdir $d) {
    open my $comm, "<", "/proc/$pid/comm" or next;
    next unless (<$comm> // "") eq "perl\n";
    open my $line, "<", "/proc/$pid/cmdline" or next;
    local $/;
    kill 9, $pid if index(<$line> // "", $marker) >= 0;
}
"""
"""SIGKILL every perl process whose command line carries the marker (stressors, holders), in
one pass over /proc (a shell loop forks twice per process: seconds on a small host)."""


@dataclass(frozen=True)
class Ran:
    ok: bool
    out: str
    err: str


class Shell(Protocol):
    """Where the scripts run as root: this machine or a host over SSH."""

    @property
    def where(self) -> str: ...

    def run(self, script: str, timeout: float = SCRIPT_TIMEOUT, root: bool = True) -> Ran: ...


class LocalShell:
    where = "this machine"

    def run(self, script: str, timeout: float = SCRIPT_TIMEOUT, root: bool = True) -> Ran:
        done = subprocess.run(
            ["sh", "-c", script], capture_output=True, text=True, timeout=timeout, check=False
        )
        return Ran(done.returncode == 0, done.stdout, done.stderr)


class RemoteShell:
    def __init__(self, host: HostSpec, session: SshSession | None = None) -> None:
        self.host = host
        self._session = session

    @property
    def where(self) -> str:
        return self.host.url

    def run(self, script: str, timeout: float = SCRIPT_TIMEOUT, root: bool = True) -> Ran:
        session = self._session or SESSIONS.session(self.host)
        done = session.run(["sh", "-c", script], timeout=timeout, sudo=True if root else None)
        return Ran(
            done.ok, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
        )


def shell_for(host: HostSpec | None) -> Shell:
    return RemoteShell(host) if host is not None else LocalShell()


def is_v2(root: Path = Path(CGROUP_ROOT)) -> bool:
    """This machine mounts the unified hierarchy (cgroup v2) at /sys/fs/cgroup."""
    return (root / "cgroup.controllers").is_file()


def scope_name(fault_id: str) -> str:
    return f"{SCOPE_PREFIX}{fault_id}.scope"


def scope_path(fault_id: str) -> str:
    return f"{CGROUP_ROOT}/{SLICE}/{scope_name(fault_id)}"


def fault_group(fault_id: str) -> str:
    return f"{scope_path(fault_id)}/fault"


def checked(shell: Shell, script: str, what: str, timeout: float = SCRIPT_TIMEOUT) -> str:
    """Run ``script``; its stdout, or StackError naming ``what`` and the first line of stderr."""
    done = shell.run(script, timeout)
    if not done.ok:
        raise StackError(f"{shell.where}: {what} failed: {one_line(done.err) or 'no reason'}")
    return done.out


def origins(shell: Shell, pids: list[int]) -> dict[int, str]:
    """Each process's cgroup v2 path (``0::/path`` in /proc/PID/cgroup), below the root."""
    script = "; ".join(f"printf '%s ' {pid}; grep '^0::' /proc/{pid}/cgroup" for pid in pids)
    found = {}
    for line in checked(shell, script, "reading the processes' cgroups").splitlines():
        pid, _, path = line.partition(" 0::")
        if path:
            found[int(pid)] = path.strip()
    missing = sorted(set(pids) - set(found))
    if missing:
        raise StackError(f"{shell.where}: no cgroup v2 group found for PIDs {missing}")
    return found


def oom_scores(shell: Shell, pids: list[int]) -> dict[int, int]:
    """Each process's ``oom_score_adj``, to be put back by the undo."""
    script = "; ".join(f"printf '%s ' {pid}; cat /proc/{pid}/oom_score_adj" for pid in pids)
    found = {}
    for line in checked(shell, script, "reading the processes' OOM scores").splitlines():
        pid, _, score = line.partition(" ")
        found[int(pid)] = int(score)
    return found


def score_script(scores: Mapping[int, int]) -> str:
    """Set each process's ``oom_score_adj``; a process gone meanwhile is skipped."""
    return "\n".join(
        f"[ ! -d /proc/{pid} ] || echo {score} > /proc/{pid}/oom_score_adj"
        for pid, score in scores.items()
    )


def create_script(
    fault_id: str, holder_seconds: int, settings: Mapping[str, str], origin_groups: list[str],
    marker: str,
) -> str:  # fmt: skip
    """Make the delegated scope and its two leaves, set ``settings`` (file → value) on
    ``fault/``, and put a holder into each origin group (see the module's docstring)."""
    scope, group = scope_path(fault_id), fault_group(fault_id)
    hold = shlex.join(["perl", "-e", "sleep shift", str(holder_seconds), marker])
    lines = [
        "set -e",
        f"S={shlex.quote(scope)}",
        f"setsid -f systemd-run --quiet --scope --unit={shlex.quote(scope_name(fault_id))} "
        f"--slice={SLICE} -p Delegate=yes "
        f"--description='opsproof fault {fault_id}' -- {hold} </dev/null >/dev/null 2>&1",
        'i=0; while ! grep -q . "$S/cgroup.procs" 2>/dev/null; do i=$((i+1)); [ $i -lt 100 ] || '
        '{ echo "scope $S did not appear" >&2; exit 1; }; sleep 0.1; done',
        'mkdir -p "$S/holder" "$S/fault"',
        'for p in $(cat "$S/cgroup.procs"); do echo "$p" > "$S/holder/cgroup.procs"; done',
        f'echo "{" ".join("+" + c for c in CONTROLLERS)}" > "$S/cgroup.subtree_control"',
    ]
    lines += [f"echo {shlex.quote(v)} > {shlex.quote(f'{group}/{k}')}" for k, v in settings.items()]
    for origin in origin_groups:
        procs = shlex.quote(f"{CGROUP_ROOT}{origin}/cgroup.procs")
        lines.append(
            f'setsid -f sh -c \'echo $$ > "$1" && shift && exec "$@"\' holder {procs} {hold} '
            "</dev/null >/dev/null 2>&1"
        )
    return "\n".join(lines)


def move_script(fault_id: str, pids: list[int]) -> str:
    procs = shlex.quote(f"{fault_group(fault_id)}/cgroup.procs")
    return "set -e\n" + "\n".join(f"echo {pid} > {procs}" for pid in pids)


def spawn_script(fault_id: str, argv: list[str]) -> str:
    """Start ``argv`` detached, already inside ``fault/`` (the shell joins, then execs)."""
    procs = shlex.quote(f"{fault_group(fault_id)}/cgroup.procs")
    return (
        f'setsid -f sh -c \'echo $$ > "$1" && shift && exec "$@"\' stressor {procs} '
        f"{shlex.join(argv)} </dev/null >/dev/null 2>&1"
    )


def dissolve_script(
    fault_id: str, origins_by_pid: Mapping[int, str], marker: str, scores: Mapping[int, int]
) -> str:
    """The undo, idempotent: the service's OOM scores as they were (``scores``, those the fault
    changed), the service's processes back to their groups (any process the
    service forked meanwhile with them, to its first origin), the fault's own processes killed
    (stressors, holders: perl carrying ``marker``; the shells running this carry it too), the
    scope stopped, and the scope's directory checked gone. Refuses to stop the scope while a
    process not the fault's own is in it."""
    scope = shlex.quote(scope_path(fault_id))
    first = next(iter(origins_by_pid.values()), "/")
    moves = "\n".join(
        f"[ -d /proc/{pid} ] && {{ echo {pid} > {_procs(origin)}"
        f" || echo 'PID {pid} could not go back to {origin}' >&2; }}"
        for pid, origin in origins_by_pid.items()
    )
    fallback = _procs(first)
    m = shlex.quote(marker)
    return f"""S={scope}
{score_script(scores) or ":"}
ours() {{ [ "$(cat /proc/$1/comm 2>/dev/null)" = perl ] && grep -qaF -- {m} /proc/$1/cmdline; }}
if [ -d "$S" ]; then
{moves or ":"}
for p in $(cat "$S/fault/cgroup.procs" 2>/dev/null); do
  ours $p && kill -9 $p || echo $p > {fallback} || echo "PID $p could not leave $S" >&2
done
fi
perl -e {shlex.quote(KILL_MARKED)} {m}
if [ -d "$S" ]; then
  for p in $(cat "$S/fault/cgroup.procs" 2>/dev/null); do
    ours $p || {{ echo "PID $p is still in $S: the scope is left running" >&2; exit 1; }}
  done
  systemctl stop {shlex.quote(scope_name(fault_id))} 2>/dev/null
  i=0; while [ -d "$S" ] && [ $i -lt 50 ]; do i=$((i+1)); sleep 0.1; done
  [ ! -d "$S" ] || {{ echo "$S is still there" >&2; exit 1; }}
fi
true"""


def counters(shell: Shell, fault_id: str, name: str) -> dict[str, int]:
    """A flat-keyed file of ``fault/`` (memory.events, cpu.stat) as numbers; empty if gone."""
    done = shell.run(f"cat {shlex.quote(f'{fault_group(fault_id)}/{name}')}", root=False)
    pairs = (line.split(" ", 1) for line in done.out.splitlines() if " " in line)
    return {key: int(value) for key, value in pairs if value.strip().isdigit()}


def group_of(shell: Shell, pid: int) -> str:
    """The cgroup v2 path of ``pid`` now (empty when it is gone)."""
    done = shell.run(f"grep '^0::' /proc/{pid}/cgroup", root=False)
    return done.out.strip().removeprefix("0::") if done.ok else ""


def _procs(group: str) -> str:
    return shlex.quote(f"{CGROUP_ROOT}{group}/cgroup.procs")
