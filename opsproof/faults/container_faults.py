"""Faults on containers: docker kill, stop, restart and pause; memory exhaustion through the
container's own memory limit (the OOM killer and the restart policy act as in production);
CPU saturation under a CPU quota. Each implements ``opsproof.faults.base.Fault``.

The stressors are small Python programs run inside the container with ``docker exec`` (every
image of the reference stack has Python), so they count against the container's limits, run
as its user, and bound their own lifetime.
"""

import time

from opsproof.config.models import CpuFaultSpec, MemoryFaultSpec, ProcessFaultSpec
from opsproof.errors import SafetyError
from opsproof.faults.container_inverse import (
    RestoreContainerLimits,
    StartContainer,
    StopContainerStressors,
    UnpauseContainer,
)
from opsproof.faults.inverse import InverseStep
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes.base import apply_lifecycle_action
from opsproof.runtimes.docker import ContainerState, DockerRuntime, DockerTarget, MemoryUse

OVERRUN = 1.5
"""The memory stressor asks for this multiple of the limit: enough to be sure to hit it."""

MEMORY_STRESSOR = """
import os, sys, time
size, seconds, victim = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
end = time.monotonic() + seconds
# raising a score needs no privilege; at 1000 the OOM killer takes that process first
with open(f"/proc/{1 if victim == 'service' else 'self'}/oom_score_adj", "w") as score:
    score.write("1000")
def mebibyte():
    chunk = bytearray(1 << 20)
    chunk[::4096] = b"\\x01" * 256  # touch every page: untouched pages use no memory
    return chunk
if victim == "stressor" and os.fork():
    # the keeper: small, at 1000 too, the kernel's choice after its allocating child
    ballast = mebibyte()  # what its kill frees for a racing allocation
    os.wait()
    time.sleep(max(end - time.monotonic(), 0))
    sys.exit()
chunks = []
while time.monotonic() < end and (len(chunks) << 20) < size:
    chunks.append(mebibyte())
    time.sleep(0.002)
time.sleep(max(end - time.monotonic(), 0))
"""
CPU_STRESSOR = """
import ctypes, os, sys, time
workers, seconds = int(sys.argv[1]), float(sys.argv[2])
end, children = time.monotonic() + seconds, []
for _ in range(workers - 1):
    pid = os.fork()
    if pid == 0:
        ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG: SIGKILL when the parent goes
        children = None
        break
    children.append(pid)
while time.monotonic() < end:
    pass
if children is None:
    os._exit(0)
for pid in children:
    os.waitpid(pid, 0)
"""


def stressor_marker(fault_id: str) -> str:
    """The last argument of a fault's stressors: how its undo finds them again."""
    return f"opsproof-fault={fault_id}"


class _ContainerFault:
    def __init__(self, target: DockerTarget) -> None:
        self.runtime = DockerRuntime(target)
        self._target = target
        self._before: ContainerState | None = None

    @property
    def target(self) -> str:
        return self.runtime.id

    def _running(self, action: str) -> ContainerState:
        state = self.runtime.state()
        if not state.running:
            raise SafetyError(f"{self.target} is {state.status}: nothing to {action}")
        self._before = state
        return state


class ContainerAction(_ContainerFault):
    """``docker kill`` (no restart by the policy), ``stop``, ``restart`` or ``pause``."""

    def __init__(self, action: str, target: DockerTarget) -> None:
        super().__init__(target)
        self.action = action

    @property
    def description(self) -> str:
        return f"docker {self.action} {self._target.container}"

    @property
    def undo(self) -> str:
        first = "docker unpause, then " if self.action == "pause" else ""
        return f"{first}start {self.target} if it is not running"

    def prepare(self) -> list[InverseStep]:
        self._running(self.action)
        start = StartContainer(target=self._target)
        return [UnpauseContainer(target=self._target), start] if self.action == "pause" else [start]

    def inject(self) -> None:
        apply_lifecycle_action(self.runtime, self.action)

    def effect(self) -> Observation:
        before, now = self._before, self.runtime.state()
        assert before is not None, "effect() before prepare()"
        if self.action in ("kill", "stop"):
            ok = now.status in ("exited", "dead")
        elif self.action == "restart":
            ok = now.running and now.started_at != before.started_at
        else:
            ok = now.status == "paused"
        figures = {"exit_code": Figure(now.exit_code), "status_ok": Figure(ok, target="== True")}
        reason = f"{self.description}: {before.status} -> {now.status} (exit code {now.exit_code})"
        return Observation(ok, self.target, reason, figures)


class ContainerMemoryExhaustion(_ContainerFault):
    """Lower the container's memory limit, then overrun it from inside: the kernel's OOM
    killer acts in the container's cgroup and, when the service is the victim, its restart
    policy brings it back.

    The limit is the container's own cgroup's, where every page of the service was charged
    from its first byte, so it holds the working set by construction (the figures show what it
    held); the proof of pressure is the engine's ``oom`` events for that cgroup."""

    def __init__(
        self, spec: MemoryFaultSpec, target: DockerTarget, fault_id: str, lifetime: float
    ) -> None:
        super().__init__(target)
        self.spec = spec
        self.marker = stressor_marker(fault_id)
        self.lifetime = lifetime
        self._since = 0.0
        self._held: MemoryUse | None = None

    @property
    def description(self) -> str:
        return (
            f"memory exhaustion of {self.target}: limit lowered to "
            f"{self.spec.limit.human_readable()} and overrun from inside "
            f"(OOM victim preferred: {self.spec.victim})"
        )

    @property
    def undo(self) -> str:
        return f"kill the stressor, docker update {self.target} back to its limits, start it"

    def prepare(self) -> list[InverseStep]:
        self._running("exhaust")
        return [
            StopContainerStressors(target=self._target, marker=self.marker),
            RestoreContainerLimits.of(self._target, self.runtime.limits()),
            StartContainer(target=self._target),
        ]

    def inject(self) -> None:
        self._since = time.time()
        self.runtime.update_limits(memory_bytes=int(self.spec.limit))
        self._held = self.runtime.memory()  # what the lowered limit holds before the stressor
        size = int(self.spec.limit * OVERRUN)
        seconds = f"{self.lifetime:g}"
        argv = ["python3", "-c", MEMORY_STRESSOR, str(size), seconds, self.spec.victim]
        self.runtime.exec_detached([*argv, self.marker])

    def effect(self) -> Observation:
        before = self._before
        assert before is not None, "effect() before prepare()"
        events = self.runtime.events(self._since, ["oom", "die"])
        ooms = sum(1 for e in events if e.get("status") == "oom")
        died = any(e.get("status") == "die" for e in events)
        now = self.runtime.state()
        restarts = now.restart_count - before.restart_count
        held = self._held
        figures = {
            "charge": Figure("own cgroup"),
            "charged_bytes": Figure(held.anonymous_bytes if held else None, "B"),
            "limit_bytes": Figure(held.limit_bytes if held else None, "B"),
            "oom_events": Figure(ooms, target="> 0"),
            "oom_killed": Figure(now.oom_killed),
            "service_killed": Figure(died),
            "restarts_by_policy": Figure(restarts),
        }
        charged = f"{held.anonymous_bytes / (1 << 20):.1f} MiB" if held else "its memory"
        reason = (
            f"{charged} of {self.target} under its own cgroup's "
            f"{self.spec.limit.human_readable()} limit; {ooms} OOM events there; the container "
            f"{'was OOM-killed' if died else 'survived'}; restart policy restarted it "
            f"{restarts} times; now {now.status}"
        )
        return Observation(ooms > 0, self.target, reason, figures)


class ContainerCpuSaturation(_ContainerFault):
    """A CPU quota on the container and stressors inside it that want more."""

    def __init__(self, spec: CpuFaultSpec, target: DockerTarget, fault_id: str, lifetime: float):
        super().__init__(target)
        self.spec = spec
        self.marker = stressor_marker(fault_id)
        self.lifetime = lifetime
        self._throttled_before = 0

    @property
    def description(self) -> str:
        return (
            f"CPU saturation of {self.target}: {self.spec.workers} stressors inside a "
            f"{self.spec.cpus:g}-core quota"
        )

    @property
    def undo(self) -> str:
        return f"kill the stressors, docker update {self.target} back to its CPU quota"

    def prepare(self) -> list[InverseStep]:
        self._running("saturate")
        self._throttled_before = self.runtime.throttled_periods()
        return [
            StopContainerStressors(target=self._target, marker=self.marker),
            RestoreContainerLimits.of(self._target, self.runtime.limits()),
        ]

    def inject(self) -> None:
        self.runtime.update_limits(cpus=self.spec.cpus)
        argv = ["python3", "-c", CPU_STRESSOR, str(self.spec.workers), f"{self.lifetime:g}"]
        self.runtime.exec_detached([*argv, self.marker])

    def effect(self) -> Observation:
        throttled = self.runtime.throttled_periods() - self._throttled_before
        figures = {"throttled_periods": Figure(throttled, target="> 0")}
        reason = f"{self.target} was throttled in {throttled} CFS periods"
        return Observation(throttled > 0, self.target, reason, figures)


def docker_fault(
    spec: ProcessFaultSpec | MemoryFaultSpec | CpuFaultSpec,
    target: DockerTarget,
    fault_id: str,
    lifetime: float,
) -> ContainerAction | ContainerMemoryExhaustion | ContainerCpuSaturation:
    """The container version of a lifecycle, memory or CPU fault from the catalogue."""
    if isinstance(spec, ProcessFaultSpec):
        return ContainerAction(spec.action, target)
    if isinstance(spec, MemoryFaultSpec):
        return ContainerMemoryExhaustion(spec, target, fault_id, lifetime)
    return ContainerCpuSaturation(spec, target, fault_id, lifetime)
