"""Resource faults: a stress-ng stressor shares a cgroup with the service, so memory exhaustion
and CPU saturation happen inside the service's own limit, not the whole machine's."""

import math
import shutil
import subprocess
from pathlib import Path

import psutil

from opsproof.config.models import CpuFaultSpec, MemoryFaultSpec
from opsproof.errors import SafetyError
from opsproof.faults import cgroups
from opsproof.faults.inverse import (
    DissolveScope,
    InverseStep,
    RestoreMemoryLimit,
    RestoreOomScore,
    StartService,
    StopStressors,
)
from opsproof.faults.memory_pressure import Charge, ChargeMode, Counters, anonymous_bytes, judge
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes.process import ProcessRuntime, ProcessTarget

CFS_PERIOD_US = 100_000
OOM_PREFERRED = "1000"


def _stress_ng() -> str:
    program = shutil.which("stress-ng")
    if program is None:
        raise SafetyError("stress-ng not found: install it (apt-get install stress-ng)")
    return program


def spawn_in_scope(scope: Path, argv: list[str]) -> None:
    """Start ``argv`` already inside ``scope``: the shell joins the cgroup, then execs, so no
    byte is ever allocated outside it (subprocess has no cgroup option)."""
    subprocess.Popen(
        [
            "sh",
            "-c",
            'echo $$ > "$1" && shift && exec "$@"',
            "stressor",
            str(scope / "cgroup.procs"),
            *argv,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class _ScopedFault:
    controller = ""

    def __init__(self, target: ProcessTarget, fault_id: str, lifetime: float) -> None:
        self.runtime = ProcessRuntime(target)
        self._target = target
        self.name = fault_id
        self.lifetime = lifetime
        self._pids: list[int] = []

    @property
    def target(self) -> str:
        return self.runtime.id

    @property
    def undo(self) -> str:
        return f"kill the stressor, move {self.target} back to its cgroups, remove the scope"

    def _scope_inverse(self) -> DissolveScope:
        _stress_ng()
        self._pids = self.runtime.find()
        if not self._pids:
            raise SafetyError(f"{self.target} is not running: nothing to stress")
        origins = {pid: cgroups.current(self.controller, pid) for pid in self._pids}
        return DissolveScope(controller=self.controller, name=self.name, origins=origins)

    def _enter_scope(self) -> Path:
        scope = cgroups.create(self.controller, self.name)
        for pid in self._pids:
            cgroups.move(self.controller, pid, f"/{cgroups.SCOPE_PARENT}/{self.name}")
        return scope


class MemoryExhaustion(_ScopedFault):
    """The service under a memory limit that holds its working set, overrun by stress-ng.

    The limit goes where the service's pages are charged: on its own memory cgroup when it has
    one to itself (lowered in place, put back on revert), else on a scope it is moved into with
    its charges. Where the kernel leaves the charges behind (Linux 6.x), nothing is stressed
    and the effect says why (``memory_pressure``)."""

    controller = "memory"

    def __init__(
        self, spec: MemoryFaultSpec, target: ProcessTarget, fault_id: str, lifetime: float
    ):
        super().__init__(target, fault_id, lifetime)
        self.spec = spec
        self._own: str | None = None
        self._cgroup: Path | None = None
        self._charge: Charge | None = None
        self._before: Counters | None = None

    @property
    def description(self) -> str:
        limit = self.spec.limit.human_readable()
        return (
            f"memory exhaustion of {self.target}: stress-ng overruns a {limit} limit that holds"
            f" its memory (OOM victim preferred: {self.spec.victim})"
        )

    @property
    def undo(self) -> str:
        return (
            f"kill the stressor; put back the limit of {self.target}'s own memory cgroup, or "
            "move it back to its cgroups and remove the scope"
        )

    def prepare(self) -> list[InverseStep]:
        scope = self._scope_inverse()
        held = anonymous_bytes(self._pids)
        if held >= self.spec.limit:
            raise SafetyError(
                f"{self.target} holds {held / (1 << 20):.1f} MiB of anonymous memory, more than "
                f"the {self.spec.limit.human_readable()} limit: the kernel cannot set a limit "
                "below what it cannot reclaim; raise the fault's limit above it"
            )
        self._own = cgroups.alone_in(self.controller, self._pids)
        steps: list[InverseStep] = [scope]
        if self._own is not None:
            own = cgroups.hierarchy(self.controller) / self._own.lstrip("/")
            limit = cgroups.read_number(own, "memory.limit_in_bytes")
            steps = [
                StopStressors(controller=self.controller, cgroup=self._own, program=_stress_ng()),
                RestoreMemoryLimit(cgroup=self._own, limit=limit),
            ]
        if self.spec.victim == "service":
            for pid in self._pids:
                score = int(Path(f"/proc/{pid}/oom_score_adj").read_text())
                created = psutil.Process(pid).create_time()
                steps.append(RestoreOomScore(pid=pid, create_time=created, value=score))
        return [*steps, StartService(target=self._target)]

    def inject(self) -> None:
        cgroup, mode = self._hold_the_service()
        self._cgroup, self._charge = cgroup, Charge.measure(mode, cgroup, self._pids)
        if not self._charge.held:
            return  # a limit would bite only the stressor: stress nothing (effect says why)
        try:
            cgroups.write(cgroup, "memory.limit_in_bytes", str(self.spec.limit))
        except OSError as exc:  # EBUSY: the working set grew past the limit since prepare
            raise SafetyError(
                f"{self.target}: the kernel refused a {self.spec.limit.human_readable()} limit "
                f"over its memory ({exc.strerror}); raise the fault's limit"
            ) from exc
        cgroups.write(cgroup, "memory.max_usage_in_bytes", "0")  # the peak under this limit
        self._before = Counters.read(cgroup)
        for pid in self._pids:
            if self.spec.victim == "service":
                Path(f"/proc/{pid}/oom_score_adj").write_text(OOM_PREFERRED)
        worker = int(self.spec.limit * 0.75)
        if self.spec.victim == "service":
            # each worker smaller than the service, so at equal oom_score_adj the service is
            # the biggest process in the cgroup and the OOM killer picks it
            worker = min(worker, max(self.runtime.resources().rss_bytes // 2, 1 << 20))
        workers = math.ceil(1.5 * self.spec.limit / worker)
        # stress-ng shares --vm-bytes among its workers
        spawn_in_scope(cgroup, [
            _stress_ng(), "--vm", str(workers), "--vm-bytes", str(worker * workers), "--vm-keep",
            "--timeout", f"{math.ceil(self.lifetime)}s", "--quiet",
        ])  # fmt: skip

    def _hold_the_service(self) -> tuple[Path, ChargeMode]:
        """The cgroup the limit goes on, the service's pages charged to it if the kernel can."""
        if self._own is not None:
            return cgroups.hierarchy(self.controller) / self._own.lstrip("/"), "own cgroup"
        scope = cgroups.create(self.controller, self.name)
        moves = cgroups.moves_charges(scope)  # on the destination, before the move
        for pid in self._pids:
            cgroups.move(self.controller, pid, f"/{cgroups.SCOPE_PARENT}/{self.name}")
        return scope, "moved with its charges" if moves else "moved, charges left behind"

    def effect(self) -> Observation:
        assert self._cgroup is not None and self._charge is not None, "effect() before inject()"
        now = Counters.read(self._cgroup)
        during = now.since(self._before) if self._before else now
        return judge(self.target, self._charge, during, bool(self.runtime.find()))


class CpuSaturation(_ScopedFault):
    controller = "cpu"

    def __init__(self, spec: CpuFaultSpec, target: ProcessTarget, fault_id: str, lifetime: float):
        super().__init__(target, fault_id, lifetime)
        self.spec = spec

    @property
    def description(self) -> str:
        return (
            f"CPU saturation of {self.target}: {self.spec.workers} stress-ng workers share its"
            f" {self.spec.cpus:g}-core quota"
        )

    def prepare(self) -> list[InverseStep]:
        return [self._scope_inverse()]

    def inject(self) -> None:
        scope = self._enter_scope()
        cgroups.write(scope, "cpu.cfs_period_us", str(CFS_PERIOD_US))
        cgroups.write(scope, "cpu.cfs_quota_us", str(int(self.spec.cpus * CFS_PERIOD_US)))
        spawn_in_scope(scope, [
            _stress_ng(), "--cpu", str(self.spec.workers),
            "--timeout", f"{math.ceil(self.lifetime)}s", "--quiet",
        ])  # fmt: skip

    def effect(self) -> Observation:
        scope = cgroups.scope_path(self.controller, self.name)
        stat = cgroups.read_stat(scope, "cpu.stat")
        throttled = stat.get("nr_throttled", 0)
        figures = {
            "throttled_periods": Figure(throttled, target="> 0"),
            "throttled_ms": Figure(round(stat.get("throttled_time", 0) / 1e6, 1), "ms"),
        }
        reason = f"{self.target}'s CPU scope was throttled in {throttled} periods"
        return Observation(throttled > 0, self.target, reason, figures)
