"""Memory and CPU faults on processes under cgroup v2 (a host over SSH, or this machine when it
is v2): the service moved into a group of opsproof's own (``cgroup_v2``), limited there, a
stressor beside it; proven from that group's memory.events oom_kill or cpu.stat nr_throttled.
The undo is ledgered before anything changes and scheduled on the target before injection
(``host_process_inverse``), as for systemd units. Each implements ``opsproof.faults.base.Fault``.
"""

import time

from opsproof.config.models import CpuFaultSpec, MemoryFaultSpec
from opsproof.errors import SafetyError
from opsproof.faults import cgroup_v2
from opsproof.faults.container_faults import stressor_marker
from opsproof.faults.host_process_inverse import (
    CancelHostUndo,
    DissolveGroupV2,
    HostUndoStep,
    StartProcessesOnHost,
    arm_host_deadman,
)
from opsproof.faults.inverse import InverseStep, StartService
from opsproof.faults.unit_faults import CPU_STRESSOR, EFFECT_WAIT, OVERRUN, STRESSOR
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes import process_runtime
from opsproof.runtimes.process import ProcessTarget
from opsproof.support.waiting import poll

HOLD_BEYOND = 600
"""Seconds the holders outlive the fault's deadline, should every undo fail."""
CFS_PERIOD_US = 100_000
SHIELDED = -1000
"""The OOM score a service gets while its neighbour is to be the victim: the kernel never
takes it. The stressor's score alone is not enough: once the stressor is killed, an allocation
racing its exit (its memory not yet freed) finds the group still full, and the service is then
the only process left to kill (seen on a guest under load: two OOM kills, Redis the second)."""


class _GroupFault:
    def __init__(self, target: ProcessTarget, fault_id: str, lifetime: float) -> None:
        self.runtime = process_runtime(target)
        self.shell = cgroup_v2.shell_for(target.host)
        self._target = target
        self.fault_id = fault_id
        self.lifetime = lifetime
        self.marker = stressor_marker(fault_id)
        self._pids: list[int] = []
        self._origins: dict[int, str] = {}
        self._scores: dict[int, int] = {}
        self._deadman: list[HostUndoStep] = []

    @property
    def target(self) -> str:
        return self.runtime.id

    @property
    def group(self) -> str:
        return cgroup_v2.fault_group(self.fault_id)

    def _prepare(self, restart: bool, shield: bool = False) -> list[InverseStep]:
        """The undo steps; ``shield``: the service's OOM scores are kept to be put back."""
        self._pids = self.runtime.find()
        if not self._pids:
            raise SafetyError(f"{self.target} is not running: nothing to limit")
        self._origins = cgroup_v2.origins(self.shell, self._pids)
        self._scores = cgroup_v2.oom_scores(self.shell, self._pids) if shield else {}
        taken = [g for g in self._origins.values() if cgroup_v2.SCOPE_PREFIX in g]
        if taken:
            raise SafetyError(f"{self.target} is already in opsproof's group {taken[0]}")
        dissolve = DissolveGroupV2(
            target=self._target, fault_id=self.fault_id, origins=self._origins,
            marker=self.marker, scores=self._scores,
        )  # fmt: skip
        remote_start = StartProcessesOnHost(target=self._target)
        self._deadman = [dissolve]
        steps: list[InverseStep] = [dissolve]
        if restart and not self._target.spec.component:
            self._deadman.append(remote_start)
        if restart:
            steps.append(remote_start if self._target.host else StartService(target=self._target))
        return [*steps, CancelHostUndo(target=self._target, fault_id=self.fault_id)]

    def arm(self) -> None:
        """The undo scheduled on the target first (``faults.base.Armed``)."""
        arm_host_deadman(self.shell, self.fault_id, self.lifetime, self._deadman)

    def _enter(self, settings: dict[str, str], stressor: list[str]) -> None:
        """The group, the service's processes (shielded from the OOM killer when prepared so),
        the stressor (the dead-man is armed before)."""
        hold = int(self.lifetime) + HOLD_BEYOND
        groups = list(dict.fromkeys(self._origins.values()))
        create = cgroup_v2.create_script(self.fault_id, hold, settings, groups, self.marker)
        cgroup_v2.checked(self.shell, create, f"creating {cgroup_v2.scope_name(self.fault_id)}")
        move = cgroup_v2.move_script(self.fault_id, self._pids)
        cgroup_v2.checked(self.shell, move, f"moving {self.target} into {self.group}")
        if self._scores:
            shield = cgroup_v2.score_script(dict.fromkeys(self._scores, SHIELDED))
            cgroup_v2.checked(self.shell, f"set -e\n{shield}", f"shielding {self.target}")
        spawn = cgroup_v2.spawn_script(self.fault_id, [*stressor, self.marker])
        cgroup_v2.checked(self.shell, spawn, "starting the stressor")

    def _seconds(self) -> str:
        return str(max(1, int(self.lifetime)))


class GroupMemoryExhaustion(_GroupFault):
    """memory.max (and memory.swap.max 0) on opsproof's group holding the service, overrun by
    a stressor there until the OOM killer acts once in that group."""

    def __init__(
        self, spec: MemoryFaultSpec, target: ProcessTarget, fault_id: str, lifetime: float
    ) -> None:
        super().__init__(target, fault_id, lifetime)
        self.spec = spec
        self._moved_at = 0.0

    @property
    def description(self) -> str:
        return (
            f"memory exhaustion of {self.target} (cgroup v2): moved into "
            f"{cgroup_v2.scope_name(self.fault_id)}/fault under memory.max="
            f"{self.spec.limit.human_readable()}, swap 0, overrun by a stressor there "
            f"(OOM victim preferred: {self.spec.victim}"
            + (f"; the service's oom_score_adj {SHIELDED} meanwhile)" if self._shields else ")")
        )

    @property
    def undo(self) -> str:
        return (
            f"kill the stressor, move {self.target} back to its cgroups, stop and remove "
            "opsproof's scope, start it if the OOM killer took it"
            + (", its OOM scores back" if self._shields else "")
            + "; scheduled on the target too"
        )

    @property
    def _shields(self) -> bool:
        return self.spec.victim == "stressor"

    def prepare(self) -> list[InverseStep]:
        return self._prepare(restart=True, shield=self._shields)

    def inject(self) -> None:
        limit = str(int(self.spec.limit))
        events = f"{self.group}/memory.events"
        size = str(int(self.spec.limit * OVERRUN))
        stressor = ["perl", "-e", STRESSOR, size, self._seconds(), events, self.spec.victim]
        self._enter({"memory.max": limit, "memory.swap.max": "0"}, stressor)
        self._moved_at = time.monotonic()

    def effect(self) -> Observation:
        """OOM kills in opsproof's group, waited for up to EFFECT_WAIT. The service's pages
        from before the move stay charged to its own group (cgroup v2 moves no charges), so
        ``charged_peak_bytes`` is the stressor's and the service's new memory only."""

        def kills() -> int:
            return cgroup_v2.counters(self.shell, self.fault_id, "memory.events").get("oom_kill", 0)

        seen, killed = poll(kills, lambda n: n > 0, EFFECT_WAIT)
        events = cgroup_v2.counters(self.shell, self.fault_id, "memory.events")
        peak = self.shell.run(f"cat {self.group}/memory.peak", root=False).out.strip()
        survivors = [pid for pid in self._pids if pid in set(self.runtime.find())]
        figures = {
            "memory_max_bytes": Figure(int(self.spec.limit), "B"),
            "oom_kills_in_group": Figure(killed, target="> 0"),
            "limit_hits": Figure(events.get("max", 0)),
            "charged_peak_bytes": Figure(int(peak) if peak.isdigit() else None, "B"),
            "service_pids_before": Figure(len(self._pids)),
            "service_pids_surviving": Figure(len(survivors)),
        }
        if self._scores and survivors:
            score = self.shell.run(f"cat /proc/{survivors[0]}/oom_score_adj", root=False).out
            figures["service_oom_score_adj"] = Figure(
                int(score) if score.strip().lstrip("-").isdigit() else None
            )
        reason = (
            f"{self.target} in {self.group} under memory.max="
            f"{self.spec.limit.human_readable()}: "
            + (f"{killed} OOM kill(s) there" if seen else "no OOM kill there")
            + f"; {len(survivors)} of {len(self._pids)} service process(es) survive (its pages "
            "from before the move stay charged to its own cgroup: cgroup v2 moves no charges)"
        )
        return Observation(seen, self.target, reason, figures)


class GroupCpuSaturation(_GroupFault):
    """cpu.max on opsproof's group holding the service, and busy loops there wanting more."""

    def __init__(
        self, spec: CpuFaultSpec, target: ProcessTarget, fault_id: str, lifetime: float
    ) -> None:
        super().__init__(target, fault_id, lifetime)
        self.spec = spec

    @property
    def description(self) -> str:
        return (
            f"CPU saturation of {self.target} (cgroup v2): moved into "
            f"{cgroup_v2.scope_name(self.fault_id)}/fault under cpu.max of "
            f"{self.spec.cpus:g} CPU, with {self.spec.workers} busy loops there"
        )

    @property
    def undo(self) -> str:
        return (
            f"kill the busy loops, move {self.target} back to its cgroups, stop and remove "
            "opsproof's scope; scheduled on the target too"
        )

    def prepare(self) -> list[InverseStep]:
        return self._prepare(restart=False)

    def inject(self) -> None:
        quota = f"{int(self.spec.cpus * CFS_PERIOD_US)} {CFS_PERIOD_US}"
        stressor = ["perl", "-e", CPU_STRESSOR, self._seconds(), str(self.spec.workers)]
        self._enter({"cpu.max": quota}, stressor)

    def effect(self) -> Observation:
        def throttled() -> int:
            return cgroup_v2.counters(self.shell, self.fault_id, "cpu.stat").get("nr_throttled", 0)

        seen, periods = poll(throttled, lambda n: n > 0, EFFECT_WAIT)
        stat = cgroup_v2.counters(self.shell, self.fault_id, "cpu.stat")
        figures = {
            "cpu_max": Figure(f"{self.spec.cpus:g} CPU"),
            "throttled_periods": Figure(periods, target="> 0"),
            "throttled_ms": Figure(round(stat.get("throttled_usec", 0) / 1000, 1), "ms"),
        }
        reason = f"{self.target} in {self.group} was throttled in {periods} CFS periods"
        return Observation(seen, self.target, reason, figures)
