"""Runtime health of local processes, on real processes: each figure fails the item when the
process breaks its rule (a restart, an fd leak, memory and CPU over budget); a healthy one
passes, its first reading saying it is the baseline."""

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opsproof.config.models import RuntimeHealth, RuntimeSpec
from opsproof.faults import cgroups
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.faults.process_faults import ProcessFault
from opsproof.faults.transaction import injected
from opsproof.health.baseline import Baselines, Record
from opsproof.health.check import RuntimeHealthCheck
from opsproof.health.judge import judge
from opsproof.health.own_faults import own_faults_since
from opsproof.health.policy import policy_for
from opsproof.health.reading import HealthReading
from opsproof.runtimes import ProcessRuntime, ProcessTarget
from opsproof.support.waiting import poll_until

READY_TIMEOUT = 20.0
HOLD = """\
import pathlib, resource, subprocess, sys, time
ready, kind, amount = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
held = []
if kind == "memory":
    held.append(bytearray(amount << 20))  # zero-filled: every page touched, all of it RSS
elif kind == "oom-child":  # once moved into its cgroup: a child over the limit is OOM-killed
    while not ready.with_suffix(".go").exists():
        time.sleep(0.05)
    subprocess.run([sys.executable, "-c", f"bytearray({amount} << 20)"])
elif kind == "files":
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    held += [open("/dev/null") for _ in range(amount)]
ready.touch()
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if kind != "busy":
        time.sleep(0.2)
"""

Start = Callable[..., tuple[ProcessRuntime, RuntimeSpec]]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start a process holding memory, files or a CPU core; its runtime and declared spec."""
    started: list[subprocess.Popen[bytes]] = []

    def _start(
        kind: str = "idle", amount: int = 0, **runtime: Any
    ) -> tuple[ProcessRuntime, RuntimeSpec]:
        marker = f"opsproof-health-{uuid.uuid4().hex[:8]}"
        ready = tmp_path / f"{marker}.ready"
        argv = [sys.executable, "-c", HOLD, str(ready), kind, str(amount), marker]
        started.append(subprocess.Popen(argv))
        assert poll_until(ready.exists, READY_TIMEOUT), f"{kind} process not ready"
        spec = RuntimeSpec.model_validate({"process": {"match": marker}, **runtime})
        assert spec.process is not None
        target = ProcessTarget(name="svc", spec=spec.process, state_dir=tmp_path)
        return ProcessRuntime(target), spec

    yield _start
    for process in started:
        process.kill()
        process.wait(10)


def check(
    runtime: ProcessRuntime, spec: RuntimeSpec, state: Path, ledger_dir: Path | None = None
) -> RuntimeHealthCheck:
    return RuntimeHealthCheck(
        runtime, policy_for(RuntimeHealth(), spec), Baselines(state, "test", "svc"), ledger_dir
    )


def _restartable(tmp_path: Path) -> tuple[ProcessRuntime, RuntimeSpec, ProcessTarget]:
    pid_file = tmp_path / "svc.pid"
    sleeper = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"
    spec = RuntimeSpec.model_validate(
        {"process": {"pid_file": pid_file, "start": [sys.executable, "-c", sleeper, str(pid_file)]}}
    )
    assert spec.process is not None
    target = ProcessTarget(name="svc", spec=spec.process, state_dir=tmp_path)
    return ProcessRuntime(target), spec, target


def test_a_healthy_process_passes_and_its_first_reading_is_the_baseline(
    start: Start, tmp_path: Path
) -> None:
    runtime, spec = start(budget={"memory": "200MiB", "cpu": "50%"})
    first = check(runtime, spec, tmp_path)
    observed = first.observe()
    first.record()
    again = check(runtime, spec, tmp_path).observe()

    assert observed.ok, observed.reason
    assert "first reading: recorded as the baseline" in observed.reason
    assert observed.figures["restarts_since_baseline"].target == "baseline recorded"
    assert again.ok and again.figures["restarts_since_baseline"].value == 0, again.reason
    assert again.figures["memory"].value < 200 and again.figures["cpu"].value < 50
    assert "oom_kills" not in again.figures  # it shares this session's cgroup: not its own
    assert "oom_kills not applicable" in again.reason


def test_a_process_started_anew_since_the_previous_run_fails(tmp_path: Path) -> None:
    runtime, spec, _ = _restartable(tmp_path)
    runtime.start(READY_TIMEOUT)
    try:
        earlier = check(runtime, spec, tmp_path)
        earlier.observe()
        earlier.record()
        runtime.restart(READY_TIMEOUT)  # what a crash and its supervisor's restart look like
        observed = check(runtime, spec, tmp_path).observe()
    finally:
        runtime.kill()

    assert not observed.ok
    assert "started anew since" in observed.reason
    assert observed.figures["restarts_since_baseline"].value == 1


def test_a_restart_by_opsproofs_own_fault_is_named_and_not_counted_as_a_crash(
    tmp_path: Path,
) -> None:
    runtime, spec, target = _restartable(tmp_path)
    runtime.start(READY_TIMEOUT)
    ledger = Ledger(ledger_path(tmp_path))
    try:
        earlier = check(runtime, spec, tmp_path, tmp_path)
        earlier.observe()
        earlier.record()
        with injected(ProcessFault("kill", target), ledger, "f1", "svc killed", 60):
            pass  # killed; the revert starts it again, as a chaos run does
        explained = check(runtime, spec, tmp_path, tmp_path).observe()
        unexplained = check(runtime, spec, tmp_path).observe()  # no ledger: a crash, as before
        recorded = check(runtime, spec, tmp_path, tmp_path)
        recorded.observe()
        recorded.record()  # the next baseline: after the fault
        runtime.restart(READY_TIMEOUT)  # after the fault and the reading: a crash of its own
        later = check(runtime, spec, tmp_path, tmp_path).observe()
    finally:
        runtime.kill()

    assert explained.ok, explained.reason
    notes = explained.figures["notes"].value
    assert "by opsproof's own fault(s) on it: 'svc killed' at " in notes and "(fault f1)" in notes
    assert explained.figures["restarts_since_baseline"].target == "<= 1 (opsproof's own faults)"
    assert not unexplained.ok and "started anew since" in unexplained.reason
    assert not later.ok and "started anew since" in later.reason, later.reason


def test_restarts_beyond_the_own_faults_fail_naming_both(tmp_path: Path) -> None:
    runtime, spec, target = _restartable(tmp_path)
    runtime.start(READY_TIMEOUT)
    try:
        with injected(ProcessFault("kill", target), Ledger(ledger_path(tmp_path)), "f2", "k", 60):
            pass
    finally:
        runtime.kill()
    own = own_faults_since(tmp_path, runtime.id, 0.0)
    baseline = Record(0.0, "unit-a", restarts=4, epoch="e")
    reading = HealthReading(runtime.id, True, "active/running", identity="unit-b", restarts=7,
                            counter_epoch="e")  # fmt: skip
    three = judge(reading, policy_for(RuntimeHealth(), spec), baseline, own)
    unrelated = judge(reading, policy_for(RuntimeHealth(), spec), baseline,
                      own_faults_since(tmp_path, "process://another", 0.0))  # fmt: skip

    assert len(own) == 1
    assert not three.ok
    assert "restarted 3 time(s) since" in three.reason
    assert "more than the 1 opsproof's own fault(s) on it explain: 'k' at " in three.reason
    assert not unrelated.ok and "opsproof's own" not in unrelated.reason


def test_an_fd_leak_past_the_share_of_the_limit_fails(start: Start, tmp_path: Path) -> None:
    runtime, spec = start("files", 60, budget={"open_files": "80%"})
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok
    assert (
        "files open of its limit 64" in observed.reason and "at most 80% allowed" in observed.reason
    )
    assert observed.figures["open_files_limit"].value == 64


def test_a_process_over_its_memory_budget_fails(start: Start, tmp_path: Path) -> None:
    runtime, spec = start("memory", 96, budget={"memory": "48MiB"})
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok
    assert "over its budget of 48.0 MiB" in observed.reason
    assert observed.figures["memory"].value > 96


@pytest.mark.alone  # a busy loop's share of a core: beside other workers it got 0.26
def test_a_busy_loop_over_its_cpu_budget_fails(start: Start, tmp_path: Path) -> None:
    runtime, spec = start("busy", budget={"cpu": "20%"})
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok
    assert "over its budget of 20%" in observed.reason
    assert observed.figures["cpu"].value > 20


def test_an_oom_kill_in_the_process_own_cgroup_fails(tmp_path: Path) -> None:
    marker = f"opsproof-health-{uuid.uuid4().hex[:8]}"
    ready = tmp_path / f"{marker}.ready"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(ready), "oom-child", "256", marker])
    scope = cgroups.create("memory", marker)
    try:
        cgroups.write(scope, "memory.limit_in_bytes", str(64 << 20))
        cgroups.write(scope, "memory.memsw.limit_in_bytes", str(64 << 20))  # no way out to swap
        cgroups.move("memory", process.pid, f"/{cgroups.SCOPE_PARENT}/{marker}")
        ready.with_suffix(".go").touch()
        assert poll_until(ready.exists, READY_TIMEOUT), "the child was not OOM-killed in time"
        spec = RuntimeSpec.model_validate({"process": {"match": marker}})
        assert spec.process is not None
        target = ProcessTarget(name="svc", spec=spec.process, state_dir=tmp_path)
        observed = check(ProcessRuntime(target), spec, tmp_path).observe()
    finally:
        process.kill()
        process.wait(10)
        cgroups.dissolve("memory", marker, {}, 10.0)

    assert not observed.ok
    assert f"1 OOM kill(s) in cgroup memory/{cgroups.SCOPE_PARENT}/{marker}" in observed.reason


def test_a_process_that_is_not_running_fails_saying_so(start: Start, tmp_path: Path) -> None:
    runtime, spec = start()
    runtime.kill()
    observed = check(runtime, spec, tmp_path).observe()

    assert not observed.ok and observed.reason.endswith("not running (no process found)")


def test_a_stopped_process_fails_as_doing_no_work(start: Start, tmp_path: Path) -> None:
    runtime, spec = start()
    runtime.pause()
    try:
        observed = check(runtime, spec, tmp_path).observe()
    finally:
        runtime.resume()

    assert not observed.ok and "stopped (SIGSTOP): it does no work" in observed.reason
