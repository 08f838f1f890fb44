"""The memory fault proves pressure on the service's own memory, from the cgroup's counters.

A real process builds a 200 MiB working set before the fault. In a memory cgroup of its own
(as a systemd unit or a container has) the limit goes on that cgroup, so it holds the working
set, and the OOM killer acts under it. Left in a cgroup it shares (as the test runner's
children do), a kernel that no longer moves charges (Linux 6.x) keeps its pages charged there:
the fault stresses nothing and says the effect is not proven.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from opsproof.config.models import MemoryFaultSpec, ProcessRuntimeSpec
from opsproof.faults import cgroups
from opsproof.faults.ledger import Ledger
from opsproof.faults.memory_pressure import Charge, Counters, anonymous_bytes, judge
from opsproof.faults.stress import MemoryExhaustion
from opsproof.faults.transaction import injected
from opsproof.probes.result import Observation
from opsproof.runtimes.process import ProcessTarget

MIB = 1 << 20
WORKING_SET = 200 * MIB
HOLDER = """
import os, sys, time
pid_file, size = sys.argv[1], int(sys.argv[2])
data = bytearray(size)
data[::4096] = b"\\x01" * (size // 4096)  # touch every page: untouched pages use no memory
with open(pid_file + ".tmp", "w") as out:
    out.write(str(os.getpid()))
os.rename(pid_file + ".tmp", pid_file)
time.sleep(600)
"""
TEST_PARENT = "opsproof-tests"
"""Own cgroups for the holders live here, like a systemd unit's under system.slice."""


@dataclass(frozen=True)
class Holder:
    pid: int
    pid_file: Path
    cgroup: str
    """Its memory cgroup, as /proc/PID/cgroup names it."""


def wait_for(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.05)


def start_holder(pid_file: Path, size: int, cgroup: Path | None) -> int:
    """A python process holding ``size`` touched bytes, in ``cgroup`` from its first byte."""
    argv = [sys.executable, "-c", HOLDER, str(pid_file), str(size)]
    if cgroup is not None:  # join the cgroup, then exec: every page is charged there
        argv = ["sh", "-c", 'echo $$ > "$1" && shift && exec "$@"', "holder",
                str(cgroup / "cgroup.procs"), *argv]  # fmt: skip
    subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    wait_for(pid_file.exists, 60, "holder's working set built")
    return int(pid_file.read_text())


def alive(pid: int) -> bool:
    """Running (a zombie child of this test process is not)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop(pid: int) -> None:
    try:
        proc = psutil.Process(pid)
        proc.kill()
        proc.wait(10)
    except psutil.Error:
        pass


@pytest.fixture
def holder(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Holder]:
    """A process with a 200 MiB working set; ``own`` (the param): in a memory cgroup of its own."""
    own: bool = request.param
    cgroup = None
    if own:
        cgroup = cgroups.hierarchy("memory") / TEST_PARENT / f"holder-{uuid.uuid4().hex[:8]}"
        cgroup.mkdir(parents=True)
    pid_file = tmp_path / "holder.pid"
    pid = start_holder(pid_file, WORKING_SET, cgroup)
    yield Holder(pid, pid_file, cgroups.current("memory", pid))
    if pid_file.exists():  # a holder its revert started again
        stop(int(pid_file.read_text()))
    stop(pid)
    if cgroup is not None:
        wait_for(lambda: not cgroups.members(cgroup), 10, "holder's cgroup empty")
        cgroup.rmdir()
        with suppress(OSError):  # another test's holder may still be in it
            cgroup.parent.rmdir()


def memory_fault(holder: Holder, tmp_path: Path, victim: str, limit: int) -> MemoryExhaustion:
    restart = [sys.executable, "-c", HOLDER, str(holder.pid_file), str(8 * MIB)]
    spec = ProcessRuntimeSpec(pid_file=holder.pid_file, start=restart)
    target = ProcessTarget(name="holder", spec=spec, state_dir=tmp_path)
    fault = MemoryFaultSpec.model_validate(
        {"action": "memory", "service": "holder", "limit": limit, "victim": victim}
    )
    return MemoryExhaustion(fault, target, uuid.uuid4().hex[:12], lifetime=30)


def eventually(check: Callable[[], Observation], timeout: float) -> Observation:
    deadline = time.monotonic() + timeout
    while not (observation := check()).ok and time.monotonic() < deadline:
        time.sleep(0.1)
    return observation


def settled(effect: Observation, killed: bool) -> Observation:
    """Not ok until the effect is proven and the service's fate is the expected one."""
    if effect.ok and effect.figures["service_killed"].value is not killed:
        seen = effect.figures["service_killed"].value
        return Observation(False, effect.target, f"service killed: {seen}, expected {killed}")
    return effect


def count(effect: Observation, figure: str) -> int:
    value = effect.figures[figure].value
    assert isinstance(value, int), f"{figure}: {value!r}"
    return value


def stressors(cgroup: str) -> list[int]:
    path = cgroups.hierarchy("memory") / cgroup.lstrip("/")
    return [p for p in cgroups.members(path) if "stress-ng" in " ".join(_cmdline(p))]


def _cmdline(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except psutil.Error:
        return []


def limit_of(cgroup: str) -> int:
    return cgroups.read_number(
        cgroups.hierarchy("memory") / cgroup.lstrip("/"), "memory.limit_in_bytes"
    )


@pytest.mark.parametrize("holder", [True], indirect=True, ids=["own cgroup"])
@pytest.mark.parametrize("victim", ["service", "stressor"])
def test_the_limit_holds_the_working_set_and_the_oom_killer_acts_under_it(
    holder: Holder, victim: str, tmp_path: Path
) -> None:
    limit_before = limit_of(holder.cgroup)
    fault = memory_fault(holder, tmp_path, victim, 300 * MIB)
    ledger = Ledger(tmp_path / "ledger.jsonl")
    with injected(fault, ledger, fault.name, "memory", 30.0):
        killed = victim == "service"
        # the OOM kill is counted as it is decided; the victim exits a moment later
        effect = eventually(lambda: settled(fault.effect(), killed), 30.0)
        assert effect.ok, effect.reason
        assert effect.figures["charge"].value == "own cgroup"
        # the working set was charged to the limit before anything was stressed
        assert count(effect, "working_set_bytes") >= WORKING_SET
        assert count(effect, "charged_bytes") >= count(effect, "working_set_bytes")
        assert count(effect, "limit_bytes") == 300 * MIB
        # the limit was hit, and the OOM killer acted in the service's own cgroup
        assert count(effect, "failcnt") > 0 and count(effect, "oom_kills") > 0
        assert 0 < count(effect, "peak_bytes") <= 300 * MIB
        assert effect.figures["service_killed"].value is killed
        assert alive(holder.pid) is not killed
    # reverted: the cgroup's own limit is back and no stressor is left in it
    assert limit_of(holder.cgroup) == limit_before
    wait_for(lambda: not stressors(holder.cgroup), 10, "stressors gone")
    assert not ledger.open_faults()


@pytest.mark.parametrize("holder", [False], indirect=True, ids=["shared cgroup"])
def test_a_working_set_charged_elsewhere_proves_nothing_and_is_not_stressed(
    holder: Holder, tmp_path: Path
) -> None:
    assert holder.cgroup == cgroups.current("memory", os.getpid())  # shared with this runner
    score = Path(f"/proc/{holder.pid}/oom_score_adj").read_text()
    fault = memory_fault(holder, tmp_path, "service", 300 * MIB)
    with injected(fault, Ledger(tmp_path / "ledger.jsonl"), fault.name, "memory", 30.0):
        effect = fault.effect()
        scope = cgroups.scope_path("memory", fault.name)
        if effect.figures["charge"].value == "moved with its charges":
            pytest.skip("this kernel moves charges: the shared-cgroup case is proven here")
        assert not effect.ok
        assert effect.figures["charge"].value == "moved, charges left behind"
        assert count(effect, "charged_bytes") < WORKING_SET // 10
        assert "did not hold process://holder's working set" in effect.reason
        assert "nothing was stressed" in effect.reason
        # no limit, no stressor, no OOM preference: the service is left alone
        assert not stressors(f"/{cgroups.SCOPE_PARENT}/{fault.name}")
        assert limit_of(f"/{cgroups.SCOPE_PARENT}/{fault.name}") > 1 << 40
        assert Path(f"/proc/{holder.pid}/oom_score_adj").read_text() == score
    assert not scope.exists() and alive(holder.pid)
    assert cgroups.current("memory", holder.pid) == holder.cgroup


@pytest.mark.parametrize("holder", [True], indirect=True, ids=["own cgroup"])
def test_a_held_working_set_without_pressure_is_not_proven(holder: Holder) -> None:
    """Counters read from the kernel: the limit holds the working set but is never reached."""
    cgroup = cgroups.hierarchy("memory") / holder.cgroup.lstrip("/")
    charge = Charge.measure("own cgroup", cgroup, [holder.pid])
    assert charge.held and charge.working_set >= WORKING_SET
    before = Counters.read(cgroup)
    cgroups.write(cgroup, "memory.limit_in_bytes", str(1 << 30))
    observation = judge("process://holder", charge, Counters.read(cgroup).since(before), True)
    assert not observation.ok
    assert "no pressure shown" in observation.reason
    assert observation.figures["failcnt"].value == 0
    assert observation.figures["oom_kills"].value == 0


def test_a_working_set_is_its_anonymous_memory(tmp_path: Path) -> None:
    pid_file = tmp_path / "holder.pid"
    pid = start_holder(pid_file, 64 * MIB, None)
    try:
        assert 64 * MIB <= anonymous_bytes([pid]) < 96 * MIB
    finally:
        stop(pid)
