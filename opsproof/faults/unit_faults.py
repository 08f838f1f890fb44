"""Faults on systemd units over SSH: kill, stop, restart, freeze; memory exhaustion and CPU
saturation inside the unit's own cgroup. Each implements ``opsproof.faults.base.Fault``.

systemd is the unit's supervisor, so opsproof leaves the way back to it: after a kill the
fault holds until systemd's Restart= has brought the unit back (timed on systemd's own clock)
and a policy that does not restart after SIGKILL fails the experiment, naming the unit; the
revert starts the unit only if it is still down. Before anything is changed the undo is
scheduled on the target itself (``unit_inverse.arm_deadman``).
"""

import time

from opsproof.config.models import CpuFaultSpec, FaultSpec, MemoryFaultSpec, ProcessFaultSpec
from opsproof.errors import HostError, SafetyError
from opsproof.faults.container_faults import stressor_marker
from opsproof.faults.inverse import InverseStep
from opsproof.faults.unit_inverse import (
    CancelTargetUndo,
    RestoreUnitProperty,
    StartUnit,
    StopUnitStressors,
    ThawUnit,
    UnitUndoStep,
    arm_deadman,
)
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes.base import apply_lifecycle_action
from opsproof.runtimes.systemd import SystemdRuntime, SystemdTarget
from opsproof.support.waiting import poll
from opsproof.transport.systemctl import UnitState

RESTART_WAIT = 30.0
"""Seconds beyond the unit's RestartSec= that systemd gets to bring a killed unit back."""
EFFECT_WAIT = 15.0
"""Seconds a memory fault waits for the kernel's OOM killer to act in the unit's cgroup."""
OVERRUN = 1.5
"""The stressor asks for this multiple of the limit: enough to be sure to hit it."""
STRESSOR = r"""
my ($bytes, $seconds, $events, $victim) = @ARGV;
alarm $seconds;
open my $score, ">", "/proc/self/oom_score_adj" or die;
print $score ($victim eq "service" ? "-999" : "1000"); close $score;
sub kills {
    open my $f, "<", $events or return -1;
    while (<$f>) { return $1 if /^oom_kill (\d+)/ }
    -1;
}
my $start = kills(); my @chunks;
while ((scalar(@chunks) << 20) < $bytes && kills() == $start) {
    push @chunks, "\1" x (1 << 20); select undef, undef, undef, 0.002;
}
select undef, undef, undef, 0.1 while kills() == $start;
"""
"""Perl (``perl-base`` is essential in Debian, always there): grow 1 MiB at a time inside the
unit's cgroup until the OOM killer acts there once, then let go, bounded by ``alarm``. Its own
``oom_score_adj`` makes it the OOM killer's last choice (victim=service) or first (stressor):
by size alone, a service with a large RSS would be taken for a neighbour's overrun."""
CPU_STRESSOR = r"""
my ($seconds, $workers) = @ARGV;
for (2 .. $workers) { last if !fork }
alarm $seconds;
1 while 1;
"""
"""``workers`` busy loops (alarms are not inherited across fork: each sets its own)."""


class UnitFault:
    def __init__(self, target: SystemdTarget, fault_id: str, lifetime: float) -> None:
        self.runtime = SystemdRuntime.of(target)
        self._target = target
        self.fault_id = fault_id
        self.lifetime = lifetime
        self._before: UnitState | None = None
        self._undo: list[UnitUndoStep] = []
        self._injected = 0.0

    @property
    def target(self) -> str:
        return self.runtime.id

    def _running(self, verb: str) -> UnitState:
        state = self.runtime.state()
        if not state.running or state.freezer_state != "running":
            raise SafetyError(
                f"{self.target} is {state.active_state}/{state.sub_state} "
                f"({state.freezer_state}): nothing to {verb}"
            )
        self._before = state
        return state

    def _ledgered(self, undo: list[UnitUndoStep]) -> list[InverseStep]:
        """The undo as the ledger holds it: the steps, then the dead-man's cancellation."""
        self._undo = undo
        return [*undo, CancelTargetUndo(target=self._target, fault_id=self.fault_id)]

    def arm(self) -> None:
        """The undo scheduled on the unit's host (``faults.base.Armed``)."""
        arm_deadman(self.runtime, self.fault_id, self.lifetime, self._undo)


_VERBS = {
    "kill": "systemctl kill --signal=SIGKILL",
    "stop": "systemctl stop",
    "restart": "systemctl restart",
    "pause": "systemctl freeze",
}


class UnitAction(UnitFault):
    """Kill, stop, restart or freeze a unit through systemd itself."""

    def __init__(self, action: str, target: SystemdTarget, fault_id: str, lifetime: float) -> None:
        super().__init__(target, fault_id, lifetime)
        self.action = action

    @property
    def description(self) -> str:
        return f"{_VERBS[self.action]} {self.target}"

    @property
    def undo(self) -> str:
        later = "start it if it is still down (after a kill, systemd's Restart= is awaited)"
        first = "systemctl thaw, then " if self.action == "pause" else ""
        return f"{first}{later}; the same undo is scheduled on the host before the fault"

    def prepare(self) -> list[InverseStep]:
        self._running(self.action)
        start = StartUnit(target=self._target)
        return self._ledgered(
            [ThawUnit(target=self._target), start] if self.action == "pause" else [start]
        )

    def inject(self) -> None:
        self._injected = time.monotonic()
        apply_lifecycle_action(self.runtime, self.action)

    def effect(self) -> Observation:
        before, now = self._before, self.runtime.state()
        assert before is not None, "effect() before prepare()"
        if self.action == "kill":
            ok = now.main_pid != before.main_pid or not now.running
        elif self.action == "stop":
            ok = now.active_state in ("inactive", "failed")
        elif self.action == "restart":
            ok = now.running and now.main_pid != before.main_pid
        else:
            ok = now.freezer_state == "frozen"
        figures = {
            "main_pid_before": Figure(before.main_pid),
            "main_pid_now": Figure(now.main_pid),
            "state_now": Figure(f"{now.active_state}/{now.sub_state} ({now.freezer_state})"),
            "restart_policy": Figure(before.restart_policy),
        }
        reason = (
            f"{self.description}: {before.active_state}/{before.sub_state} pid {before.main_pid}"
            f" -> {now.active_state}/{now.sub_state} pid {now.main_pid} ({now.freezer_state})"
        )
        return Observation(ok, self.target, reason, figures)

    def supervision(self) -> Observation | None:
        """After a kill: whether systemd brought the unit back by itself, and how fast on its
        own clock (from leaving the active state to entering it again). Awaited only when the
        unit's Restart= policy restarts after SIGKILL; otherwise a failure naming the unit."""
        before = self._before
        if self.action != "kill" or before is None:
            return None
        unit = f"{self.target} (Restart={before.restart_policy})"
        try:
            return self._await_restart(before, unit)
        except (HostError, ValueError) as error:
            reason = f"{unit}: whether systemd brought it back could not be read: {error}"
            return Observation(False, self.target, reason)

    def _await_restart(self, before: UnitState, unit: str) -> Observation:
        if not before.restarts_after_kill:
            down = self.runtime.state()
            reason = (
                f"{unit}: systemd does not restart it after SIGKILL, and it is "
                f"{down.active_state}/{down.sub_state}; opsproof's revert starts it, no "
                "supervisor would have: set Restart=on-failure (or always) in the unit"
            )
            return Observation(False, self.target, reason, {"restarted_by_systemd": Figure(False)})
        restart_sec = _seconds(self.runtime.unit_property("RestartUSec"))
        left = self.lifetime - (time.monotonic() - self._injected) - 5
        wait = max(0.0, min(restart_sec + RESTART_WAIT, left))

        def came_back(state: UnitState | None) -> bool:
            return state is not None and _back(before, state)

        back, now = poll(self._read, came_back, wait)
        observed = round(time.monotonic() - self._injected, 3)
        if not back or now is None:
            said = f"{now.active_state}/{now.sub_state}" if now else "unreadable"
            reason = f"{unit}: not back within {wait:.0f} s of the kill ({said})"
            return Observation(False, self.target, reason, {"restarted_by_systemd": Figure(False)})
        took = round((now.active_since_us - now.active_until_us) / 1e6, 3)
        figures = {
            "restarted_by_systemd": Figure(True, target="== True"),
            "systemd_restart_s": Figure(took, "s"),
            "systemd_restart_sec": Figure(restart_sec, "s"),
            "seen_back_after_s": Figure(observed, "s"),
            "restarts": Figure(now.restarts - before.restarts),
        }
        reason = (
            f"{unit}: systemd brought it back by itself in {took:.3f} s on its own clock "
            f"(RestartSec={restart_sec:g} s; seen back {observed:.2f} s after the kill), "
            f"main PID {before.main_pid} -> {now.main_pid}"
        )
        return Observation(True, self.target, reason, figures)

    def _read(self) -> UnitState | None:
        try:
            return self.runtime.state()
        except (HostError, ValueError):
            return None


def _back(before: UnitState, now: UnitState) -> bool:
    return now.running and now.main_pid != before.main_pid and now.restarts > before.restarts


def _seconds(value: str) -> float:
    """A systemd time span as ``systemctl show`` prints it (``100ms``, ``1min 30s``, ``0``)."""
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0}
    total = 0.0
    for word in value.split():
        number = word.rstrip("abcdefghijklmnopqrstuvwxyz")
        total += float(number or 0) * units.get(word[len(number) :] or "s", 1.0)
    return total


class UnitMemoryExhaustion(UnitFault):
    """Lower the unit's MemoryMax= (``set-property --runtime``) and overrun it from a stressor
    placed in the unit's own cgroup: the kernel's OOM killer acts there, and systemd's
    OOMPolicy= and Restart= do what they would in production. Proven from memory.events
    oom_kill; undone to the exact prior MemoryMax."""

    def __init__(
        self, spec: MemoryFaultSpec, target: SystemdTarget, fault_id: str, lifetime: float
    ) -> None:
        super().__init__(target, fault_id, lifetime)
        self.spec = spec
        self.marker = stressor_marker(fault_id)
        self._prior = ""
        self._cgroup = ""
        self._kills_before: dict[str, int] = {}
        self._charged: int | None = None

    @property
    def description(self) -> str:
        return (
            f"memory exhaustion of {self.target}: MemoryMax={int(self.spec.limit)} "
            f"({self.spec.limit.human_readable()}) and a stressor in the unit's cgroup "
            f"(OOM victim preferred: {self.spec.victim})"
        )

    @property
    def undo(self) -> str:
        return (
            f"kill the stressor, MemoryMax of {self.target} back to its prior value (the "
            "runtime drop-in removed), start it if it is down; scheduled on the host too"
        )

    def prepare(self) -> list[InverseStep]:
        self._running("exhaust")
        self._prior = self.runtime.unit_property("MemoryMax")
        self._cgroup = self.runtime.cgroup_path()
        drop_in = self.runtime.runtime_drop_in("MemoryMax")
        self._kills_before = self._kills()
        return self._ledgered(
            [
                StopUnitStressors(target=self._target, cgroup=self._cgroup, marker=self.marker),
                RestoreUnitProperty(
                    target=self._target, name="MemoryMax", value=self._prior, drop_in=drop_in,
                    drop_in_existed=self.runtime.exists(drop_in),
                ),
                StartUnit(target=self._target),
            ]
        )  # fmt: skip

    def inject(self) -> None:
        self.runtime.set_runtime_property("MemoryMax", str(int(self.spec.limit)))
        self._charged = self.runtime.cgroup_counters("memory.stat").get("anon")
        events = f"{self._cgroup}/memory.events"
        size = str(int(self.spec.limit * OVERRUN))
        seconds = f"{max(1, int(self.lifetime))}"
        argv = ["perl", "-e", STRESSOR, size, seconds, events, self.spec.victim, self.marker]
        self.runtime.spawn_in_cgroup(argv)

    def effect(self) -> Observation:
        """OOM kills counted in memory.events, in the unit's cgroup and in its slice (the
        cgroup is removed and made anew when systemd stops and restarts the unit, so the
        slice's hierarchical counter is the one that survives); waits up to EFFECT_WAIT."""
        seen, kills = poll(self._kills, self._killed, EFFECT_WAIT)
        state = self.runtime.state()
        unit_kills = kills.get("unit", 0) - self._kills_before.get("unit", 0)
        slice_kills = kills.get("slice", 0) - self._kills_before.get("slice", 0)
        figures = {
            "memory_max_before": Figure(self._prior),
            "limit_bytes": Figure(int(self.spec.limit), "B"),
            "charged_anon_bytes": Figure(self._charged, "B"),
            "oom_kills_in_unit": Figure(max(unit_kills, 0)),
            "oom_kills_in_slice": Figure(slice_kills, target="> 0"),
            "unit_result": Figure(state.result),
            "state_now": Figure(f"{state.active_state}/{state.sub_state}"),
        }
        where = "its cgroup" if unit_kills > 0 else f"its slice ({_parent(self._cgroup)})"
        reason = (
            f"{self.target} under MemoryMax={self.spec.limit.human_readable()}: "
            + (f"{max(unit_kills, slice_kills)} OOM kill(s) in {where}" if seen else "no OOM kill")
            + f"; the unit is {state.active_state}/{state.sub_state} (Result={state.result}, "
            f"NRestarts {state.restarts})"
        )
        return Observation(seen, self.target, reason, figures)

    def _kills(self) -> dict[str, int]:
        unit = self.runtime.cgroup_counters("memory.events", _relative(self._cgroup))
        parent = self.runtime.cgroup_counters("memory.events", _relative(_parent(self._cgroup)))
        return {"unit": unit.get("oom_kill", 0), "slice": parent.get("oom_kill", 0)}

    def _killed(self, kills: dict[str, int]) -> bool:
        return kills["slice"] > self._kills_before.get("slice", 0) or (
            kills["unit"] > self._kills_before.get("unit", 0)
        )


class UnitCpuSaturation(UnitFault):
    """A CPU quota on the unit (``set-property --runtime CPUQuota=``) and busy loops inside its
    cgroup that want more: proven from cpu.stat nr_throttled, the quota put back exactly."""

    def __init__(
        self, spec: CpuFaultSpec, target: SystemdTarget, fault_id: str, lifetime: float
    ) -> None:
        super().__init__(target, fault_id, lifetime)
        self.spec = spec
        self.marker = stressor_marker(fault_id)
        self._prior = ""
        self._throttled_before = 0

    @property
    def description(self) -> str:
        return (
            f"CPU saturation of {self.target}: CPUQuota={self.spec.cpus * 100:g}% and "
            f"{self.spec.workers} busy loops in the unit's cgroup"
        )

    @property
    def undo(self) -> str:
        return (
            f"kill the busy loops, CPUQuota of {self.target} back to its prior value (the "
            "runtime drop-in removed); scheduled on the host too"
        )

    def prepare(self) -> list[InverseStep]:
        self._running("saturate")
        per_second = self.runtime.unit_property("CPUQuotaPerSecUSec")
        # CPUQuota= (empty) is "no quota"; otherwise the share of one CPU per second it allows
        self._prior = "" if per_second == "infinity" else f"{_seconds(per_second) * 100:g}%"
        drop_in = self.runtime.runtime_drop_in("CPUQuota")
        cgroup = self.runtime.cgroup_path()
        self._throttled_before = self.runtime.cgroup_counters("cpu.stat").get("nr_throttled", 0)
        return self._ledgered(
            [
                StopUnitStressors(target=self._target, cgroup=cgroup, marker=self.marker),
                RestoreUnitProperty(
                    target=self._target, name="CPUQuota", value=self._prior, drop_in=drop_in,
                    drop_in_existed=self.runtime.exists(drop_in),
                ),
            ]
        )  # fmt: skip

    def inject(self) -> None:
        self.runtime.set_runtime_property("CPUQuota", f"{self.spec.cpus * 100:g}%")
        seconds = f"{max(1, int(self.lifetime))}"
        argv = ["perl", "-e", CPU_STRESSOR, seconds, str(self.spec.workers), self.marker]
        self.runtime.spawn_in_cgroup(argv)

    def effect(self) -> Observation:
        def throttled() -> int:
            return self.runtime.cgroup_counters("cpu.stat").get("nr_throttled", 0)

        seen, now = poll(throttled, lambda n: n > self._throttled_before, EFFECT_WAIT)
        periods = now - self._throttled_before
        figures = {
            "cpu_quota_before": Figure(self._prior or "none"),
            "throttled_periods": Figure(periods, target="> 0"),
        }
        reason = f"{self.target} was throttled in {periods} CFS periods under its CPUQuota"
        return Observation(seen, self.target, reason, figures)


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0]


def _relative(path: str) -> str:
    """A cgroup directory as systemd names it (below /sys/fs/cgroup)."""
    return path.removeprefix("/sys/fs/cgroup")


def unit_fault(
    spec: FaultSpec, target: SystemdTarget, fault_id: str, lifetime: float
) -> UnitAction | UnitMemoryExhaustion | UnitCpuSaturation:
    """The systemd version of a fault from the catalogue."""
    if isinstance(spec, ProcessFaultSpec):
        return UnitAction(spec.action, target, fault_id, lifetime)
    if isinstance(spec, MemoryFaultSpec):
        return UnitMemoryExhaustion(spec, target, fault_id, lifetime)
    if isinstance(spec, CpuFaultSpec):
        return UnitCpuSaturation(spec, target, fault_id, lifetime)
    raise SafetyError(
        f"services.{target.name}: a {spec.action} fault cannot act on a systemd unit yet "
        "(use kill, stop, restart, pause, memory or cpu)"
    )
