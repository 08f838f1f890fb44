"""Container faults on a real container: the effect is observed, and the undo put back
exactly what was there (limits) or brought the container back (start, unpause)."""

import time
from contextlib import suppress
from pathlib import Path

import psutil
import pytest
from docker.models.containers import Container
from pydantic import ByteSize

from opsproof.config.models import CpuFaultSpec, MemoryFaultSpec, ProcessFaultSpec
from opsproof.faults import cgroups
from opsproof.faults.container_faults import docker_fault
from opsproof.faults.inverse import revert
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.support.waiting import poll_until

OOM_TIMEOUT = 30.0


def _target(container: Container) -> DockerTarget:
    return DockerTarget(name="sleeper", container=str(container.name))


def _stressors(runtime: DockerRuntime, fault_id: str) -> list[int]:
    """Host PIDs of the fault's stressors in the container (found by their marker)."""
    found = []
    for pid in runtime.find():
        try:
            if psutil.Process(pid).cmdline()[-1:] == [f"opsproof-fault={fault_id}"]:
                found.append(pid)
        except psutil.Error:
            continue
    return found


def _oom_score(pid: int) -> int:
    """The kernel's own badness of the process: the OOM killer takes the highest."""
    return int(Path(f"/proc/{pid}/oom_score").read_text())


def _oom_scores(pids: list[int]) -> list[int]:
    """The badness of those of ``pids`` still alive."""
    scores = []
    for pid in pids:
        with suppress(FileNotFoundError, ProcessLookupError):
            scores.append(_oom_score(pid))
    return scores


def _oom_kills(pid: int) -> int:
    """Kills the OOM killer made in the memory cgroup of ``pid`` (the container's)."""
    group = cgroups.hierarchy("memory") / cgroups.current("memory", pid).lstrip("/")
    return cgroups.read_stat(group, "memory.oom_control")["oom_kill"]


def test_oom_kill_through_the_memory_limit_and_the_restart_policy_brings_it_back(
    sleeper_runtime: DockerRuntime, sleeper: Container
) -> None:
    spec = MemoryFaultSpec(action="memory", service="sleeper", limit=ByteSize(32 << 20))
    fault = docker_fault(spec, _target(sleeper), "oomtest", lifetime=30)
    original = sleeper_runtime.limits()
    steps = fault.prepare()
    fault.inject()
    assert sleeper_runtime.limits().memory_bytes == 32 << 20
    # nobody starts it: the engine's restart policy alone must bring it back
    state = sleeper_runtime.wait_for(
        lambda s: s.oom_killed and s.restart_count >= 1 and s.running,
        OOM_TIMEOUT,
        "OOM-killed and restarted by its policy",
    )
    effect = fault.effect()
    assert effect.ok, effect.reason
    # the limit was the container's own cgroup's: it held the working set from the start
    assert effect.figures["charge"].value == "own cgroup"
    assert effect.figures["limit_bytes"].value == 32 << 20
    charged = effect.figures["charged_bytes"].value
    assert isinstance(charged, int) and 0 < charged < 32 << 20
    assert effect.figures["oom_killed"].value is True
    assert effect.figures["service_killed"].value is True
    assert effect.figures["restarts_by_policy"].value >= 1
    assert state.exit_code == 0  # the new run is up; the OOM-killed one exited 137
    assert not revert(steps)
    assert sleeper_runtime.limits().memory_bytes == original.memory_bytes
    assert sleeper_runtime.state().ready


@pytest.mark.parametrize("sleeper", [28], indirect=True)  # MiB the service holds
def test_a_noisy_neighbour_is_oom_killed_and_the_service_survives(
    sleeper_runtime: DockerRuntime, sleeper: Container
) -> None:
    """The service is the bigger process: under a 48 MiB limit that holds its 33 MiB, the
    stressor cannot outgrow it, and by size alone the OOM killer would take the service. After
    the stressor's kill, a second OOM (an allocation racing its exit, as a health check's did
    in CI) must find the fault's own process ranked first by the kernel, not the service: it is
    either still there, ranked above the service, or that second OOM has already taken it."""
    spec = MemoryFaultSpec(
        action="memory", service="sleeper", limit=ByteSize(48 << 20), victim="stressor"
    )
    fault = docker_fault(spec, _target(sleeper), "neighbour", lifetime=30)
    pid = sleeper_runtime.state().pid
    assert sleeper_runtime.memory().anonymous_bytes > 30 << 20
    steps = fault.prepare()
    fault.inject()
    deadline = time.monotonic() + OOM_TIMEOUT
    while not (effect := fault.effect()).ok and time.monotonic() < deadline:
        time.sleep(0.1)
    assert effect.ok, effect.reason
    assert effect.figures["service_killed"].value is False
    assert sleeper_runtime.state().pid == pid
    second = _oom_scores(_stressors(sleeper_runtime, "neighbour"))  # kept for that OOM
    if second:
        assert max(second) > _oom_score(pid)
    else:  # the second victim was taken, by a second kill
        kills = _oom_kills(pid)
        assert kills >= 2, f"the fault's second process is gone after {kills} OOM kill(s)"
    assert sleeper_runtime.state().pid == pid
    assert not revert(steps)
    assert poll_until(lambda: not _stressors(sleeper_runtime, "neighbour"), 5)


def test_cpu_saturation_is_throttled_and_its_stressors_killed_on_revert(
    sleeper_runtime: DockerRuntime, sleeper: Container
) -> None:
    spec = CpuFaultSpec(action="cpu", service="sleeper", workers=2, cpus=0.2)
    fault = docker_fault(spec, _target(sleeper), "cputest", lifetime=60)
    steps = fault.prepare()
    fault.inject()
    deadline = time.monotonic() + 10
    while not (effect := fault.effect()).ok and time.monotonic() < deadline:
        time.sleep(0.2)
    assert effect.ok, effect.reason
    assert len(_stressors(sleeper_runtime, "cputest")) == 2
    assert not revert(steps)
    deadline = time.monotonic() + 5
    while _stressors(sleeper_runtime, "cputest") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _stressors(sleeper_runtime, "cputest")
    assert sleeper_runtime.limits().cpus == 0


def test_pause_and_kill_are_undone(sleeper_runtime: DockerRuntime, sleeper: Container) -> None:
    for action in ("pause", "kill", "stop", "restart"):
        fault = docker_fault(
            ProcessFaultSpec(action=action, service="sleeper"), _target(sleeper), action, 30
        )
        steps = fault.prepare()
        fault.inject()
        effect = fault.effect()
        assert effect.ok, effect.reason
        assert not revert(steps)
        assert sleeper_runtime.state().ready, f"{action} was not undone"
