"""Runtime health of a systemd unit on a host (``runtime: {systemd: ...}``), read in one SSH
round trip: ``systemctl show`` (NRestarts, Result, MemoryCurrent, InvocationID), the unit
cgroup's ``memory.events`` (oom_kill) and ``cpu.stat`` before and after the CPU window, and
each of its processes' open files against its soft limit (/proc/PID/fd, /proc/PID/limits)."""

import shlex

from opsproof.errors import HostError
from opsproof.health.reading import HealthReading, OpenFiles, worst_open_files
from opsproof.runtimes.systemd import CGROUP_ROOT, SystemdRuntime

PROPERTIES = (
    "LoadState,ActiveState,SubState,FreezerState,NRestarts,Result,MemoryCurrent,InvocationID"
)
READ_TIMEOUT = 20.0
"""For the whole round trip, CPU window included (at most 10 s)."""

_SCRIPT = """\
unit={unit}; window={window}
systemctl show --property={properties} -- "$unit" || exit 3
{{
cg={root}$(systemctl show --value --property=ControlGroup -- "$unit")
echo "@cgroup=$cg"
cpu() {{ echo "@cpu=$(date +%s%N) $(awk '$1=="usage_usec"{{print $2}}' "$cg/cpu.stat")"; }}
cpu
sed -n 's/^oom_kill /@oom_kill=/p' "$cg/memory.events" 2>/dev/null
# a process may end between listing the cgroup and reading it: skipped, not denied
for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
  [ -r /proc/$pid/fd ] || {{ [ -e /proc/$pid ] && echo "@denied=$pid"; continue; }}
  soft=$(awk '/^Max open files/{{print $4}}' /proc/$pid/limits) && [ -n "$soft" ] || continue
  echo "@fd=$pid $(ls -A /proc/$pid/fd | wc -l) $soft"
done
[ "$window" = 0 ] || {{ sleep "$window"; cpu; }}
}} 2>/dev/null
"""


def read_unit_health(runtime: SystemdRuntime, cpu_window: float | None) -> HealthReading:
    """The unit now, through the run's SSH session to its host (one command)."""
    window = f"{cpu_window:.3f}" if cpu_window else "0"
    script = _SCRIPT.format(
        unit=shlex.quote(runtime.unit), window=window, properties=PROPERTIES, root=CGROUP_ROOT
    )
    try:
        done = runtime.session.run(["sh", "-c", script], timeout=READ_TIMEOUT)
    except HostError as error:
        return HealthReading(runtime.id, running=False, state=f"cannot reach the host: {error}")
    if not done.ok:
        why = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.exit_status}"
        return HealthReading(runtime.id, running=False, state=f"systemctl show failed: {why}")
    return _parse(runtime.id, done.text(), windowed=bool(cpu_window))


def _parse(runtime_id: str, text: str, *, windowed: bool) -> HealthReading:
    shown: dict[str, str] = {}
    marks: dict[str, list[str]] = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.startswith("@"):
            marks.setdefault(key[1:], []).append(value)
        elif key:
            shown[key] = value
    state = f"{shown.get('ActiveState')}/{shown.get('SubState')}"
    if shown.get("LoadState") != "loaded":
        return HealthReading(runtime_id, False, f"{shown.get('LoadState')} (no such unit?)")
    restarts = int(shown.get("NRestarts") or 0)
    oom_result = 1 if shown.get("Result") == "oom-kill" else 0
    if state != "active/running":
        return HealthReading(runtime_id, False, state, restarts=restarts, oom_kills=oom_result)
    unread: dict[str, str] = {}
    scope = marks.get("cgroup", [""])[0].removeprefix(f"{CGROUP_ROOT}/")
    oom = marks.get("oom_kill")
    if not oom:
        unread["oom_kills"] = f"no oom_kill in {scope}/memory.events (cgroup v1 host?)"
    memory = shown.get("MemoryCurrent", "")
    if not memory.isdigit():
        unread["memory_bytes"] = f"MemoryCurrent is {memory!r} (MemoryAccounting=no?)"
    rows = [OpenFiles(*_fd_row(value)) for value in marks.get("fd", [])]
    if denied := marks.get("denied"):
        unread["open_files"] = (
            f"no permission to read /proc/{denied[0]}/fd; set ssh.sudo: true on the host"
        )
    cores = _cores(marks.get("cpu", []))
    if windowed and cores is None:
        unread["cpu_cores"] = f"no usage_usec in {scope}/cpu.stat (cpu controller off?)"
    return HealthReading(
        runtime_id,
        running=True,
        state=state,
        trouble="" if shown.get("FreezerState") == "running" else "frozen: it does no work",
        identity=shown.get("InvocationID", ""),
        restarts=restarts,
        counter_epoch="",
        oom_kills=max(int(oom[0]), oom_result) if oom else None,
        oom_scope=f"cgroup {scope}",
        memory_bytes=int(memory) if memory.isdigit() else None,
        cpu_cores=cores,
        open_files=worst_open_files(rows),
        unread=unread,
    )


def _fd_row(value: str) -> tuple[int, int, int]:
    pid, count, limit = value.split()
    return int(pid), int(count), int(limit) if limit.isdigit() else 0


def _cores(samples: list[str]) -> float | None:
    """usage_usec over wall nanoseconds between the two samples; None without a window."""
    parts = [sample.split() for sample in samples[:2]]
    if len(parts) < 2 or any(len(part) != 2 for part in parts):
        return None
    (wall0, used0), (wall1, used1) = parts
    return max(int(used1) - int(used0), 0) / 1e6 / ((int(wall1) - int(wall0)) / 1e9)
