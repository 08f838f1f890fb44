"""Chaos on a process of the guest that no unit of opsproof's runs ("foreign ground"): a second
Redis started by hand with its own configuration (``--daemonize yes --pidfile``), declared only
in YAML as ``runtime: {process: {pid_file, host: vm, start}}``. Memory and CPU faults under
cgroup v2 (the guest's only hierarchy) are proven from opsproof's group's own counters, and the
process ends back in the very cgroup it came from with opsproof's scope gone; a kill is
recovered by the declared start command; a runner SIGKILLed mid-fault is undone by the guest's
own scheduled undo; a pause is resumed and the undo scheduled on the guest cancelled."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from opsproof.config.loader import load_environment
from opsproof.config.models import RuntimeHealth, RuntimeSpec
from opsproof.faults.cgroup_v2 import SCOPE_PREFIX, dissolve_script
from opsproof.faults.experiment import run_experiment
from opsproof.faults.feasibility import plan_problems
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.faults.result import Result
from opsproof.health.baseline import Baselines
from opsproof.health.check import RuntimeHealthCheck
from opsproof.health.policy import policy_for
from opsproof.runner import RunRequest, pytest_command
from opsproof.support.waiting import poll_until
from opsproof.testhost.machine import GuestState
from opsproof.transport.ssh import SshSession
from opsproof.workers import runtime_of
from tests.testhost.units import chaos_run, config_text, experiment

PID_FILE = "/run/opsproof-side-redis.pid"
PORT = "6390"
START = [
    "redis-server", "--port", PORT, "--bind", "127.0.0.1", "--daemonize", "yes",
    "--pidfile", PID_FILE, "--save", "", "--appendonly", "no", "--dir", "/run",
]  # fmt: skip
RECOVERY = "recovery: {within: 90s, consecutive: 2, interval: 100ms}\n"
GUEST_UNDO = 90
"""Seconds after a fault is scheduled on the guest that the guest undoes it itself: room for the
fault's SSH steps and this test's reads of them, each taking seconds on an emulated guest beside a
busy runner. At 40 s a CI run waited out ``INJECTED`` without seeing the fault in place; the test
now tells a timer that fired first from a run that never injected."""
INJECTED = 300
"""Seconds from a chaos run's start to its fault in place: a pytest start, the plan's checks and
the steady state, each SSH read taking seconds on an emulated guest beside a busy runner."""


def _services(start: list[str] = START) -> str:
    argv = ", ".join(f'"{word}"' for word in start)
    return (
        "side:\n  kind: process\n  runtime:\n    process:\n"
        f"      pid_file: {PID_FILE}\n      host: vm\n      start: [{argv}]\n"
    )


def _where(root: SshSession) -> tuple[int, str]:
    """The side Redis's PID and cgroup v2 path, read on the guest (0, "" when it is down)."""
    done = root.run(["sh", "-c", f"p=$(cat {PID_FILE}) && echo $p && grep '^0::' /proc/$p/cgroup"])
    if not done.ok:
        return 0, ""
    pid, group = done.text().split()
    return int(pid), group.removeprefix("0::")


@pytest.fixture
def side_redis(root_session: SshSession) -> Iterator[tuple[int, str]]:
    """The second Redis, started by hand over SSH (not by opsproof, under no unit of its own);
    stopped and its PID file removed afterwards."""
    started = root_session.run(START)
    assert started.ok, started.stderr
    deadline = time.monotonic() + 30
    while not (found := _where(root_session))[0]:
        assert time.monotonic() < deadline, "the side Redis did not start"
        time.sleep(0.5)
    yield found
    stop = f"kill $(cat {PID_FILE}) 2>/dev/null; sleep 1; rm -f {PID_FILE}"
    root_session.run(["sh", "-c", stop])


def _grow(root: SshSession, mib: int) -> int:
    """Fill the side Redis with ``mib`` MiB of values (a Lua loop in Redis: no client buffers
    that big); its RSS in bytes afterwards."""
    fill = "for i=1,ARGV[1] do redis.call('SET','filler:'..i,string.rep('x',1024)) end"
    filled = root.run(["redis-cli", "-p", PORT, "EVAL", fill, "0", str(mib * 1024)])
    assert filled.ok, filled.stderr
    rss = root.run(["sh", "-c", f"grep VmRSS /proc/$(cat {PID_FILE})/status"])
    return int(rss.text().split()[1]) * 1024


def _oom_score(root: SshSession, value: int | None = None) -> int:
    """The side Redis's oom_score_adj, set to ``value`` first when given."""
    path = f"/proc/$(cat {PID_FILE})/oom_score_adj"
    write = f"echo {value} > {path}; " if value is not None else ""
    return int(root.run(["sh", "-c", f"{write}cat {path}"]).text())


def _scopes(root: SshSession) -> str:
    listed = root.run(["sh", "-c", f"ls -d /sys/fs/cgroup/system.slice/{SCOPE_PREFIX}* 2>&1"])
    return listed.text() if listed.ok else ""


def _why(root: SshSession, result: Result) -> str:
    """The fault's figures and the guest kernel's account of its OOM kills (who asked, whom it
    killed, with what RSS and score): what tells a wrong victim from a service that died."""
    done = root.run(["sh", "-c", "dmesg | grep -E 'invoked oom-killer|Killed process|oom-kill:'"])
    figures = {k: f.value for k, f in result.figures.items() if k.startswith("fault.")}
    return f"{result.reason}\nfigures: {figures}\nkernel: {done.text() or done.stderr}"


def _count(result: Result, name: str) -> int:
    value = result.figures[name].value
    assert isinstance(value, int), (name, value)
    return value


def _run(guest: GuestState, tmp_path: Path, plan: str, services: str = "") -> Result:
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, services or _services(), plan))
    run, environment = chaos_run(config, tmp_path)
    result = run_experiment(run, experiment(environment))
    assert not run.ledger.open_faults()
    return result


def test_memory_fault_oom_kills_in_opsproofs_group_and_puts_the_process_back(
    guest: GuestState, root_session: SshSession, side_redis: tuple[int, str], tmp_path: Path
) -> None:
    # bigger than the stressor can grow under the 32 MiB limit (plus its 5 MiB of Perl): by
    # size alone, the OOM killer would take Redis for its neighbour's overrun
    rss = _grow(root_session, 30)
    assert rss > 40 << 20, rss
    assert _oom_score(root_session, 7) == 7  # a prior score of its own, to be put back exactly
    plan = (
        f"may_hit: [side]\nsteady_state: [side]\n{RECOVERY}experiments:\n"
        "  - name: side neighbour out of memory\n"
        "    fault: {action: memory, service: side, limit: 32MiB, victim: stressor}\n"
        "    duration: 1s\n    deadline: 300s\n"
    )
    result = _run(guest, tmp_path, plan)

    assert result.verdict == "passed", _why(root_session, result)
    assert _count(result, "fault.oom_kills_in_group") >= 1
    assert _count(result, "fault.service_pids_surviving") == 1
    # shielded while its neighbour overran: the kernel never takes it, even in a second OOM
    # that races the killed stressor's exit
    assert _count(result, "fault.service_oom_score_adj") == -1000
    assert _oom_score(root_session) == 7, "the service's OOM score was not put back"
    assert "cgroup v2 moves no charges" in result.reason
    assert _where(root_session) == side_redis, "not back in the cgroup it came from"
    assert _scopes(root_session) == ""


def test_the_undo_the_guest_runs_by_itself_puts_the_oom_score_back(
    root_session: SshSession, side_redis: tuple[int, str]
) -> None:
    """The dead-man's script (the ledgered undo, run on the host when the runner is gone)
    restores the score of a service shielded from the OOM killer, scope or no scope."""
    pid, group = side_redis
    _oom_score(root_session, 7)
    _oom_score(root_session, -1000)

    undo = dissolve_script("shieldtest", {pid: group}, "opsproof-test-no-such-marker", {pid: 7})
    done = root_session.run(["sh", "-c", undo])

    assert done.ok, done.stderr
    assert _oom_score(root_session) == 7
    _oom_score(root_session, 0)


def test_memory_fault_on_the_service_is_recovered_by_its_start_command(
    guest: GuestState, root_session: SshSession, side_redis: tuple[int, str], tmp_path: Path
) -> None:
    plan = (
        f"may_hit: [side]\nsteady_state: [side]\n{RECOVERY}experiments:\n"
        "  - name: side out of memory\n"
        "    fault: {action: memory, service: side, limit: 32MiB, victim: service}\n"
        "    duration: 1s\n    deadline: 300s\n"
    )
    result = _run(guest, tmp_path, plan)

    assert result.verdict == "passed", _why(root_session, result)
    assert _count(result, "fault.oom_kills_in_group") >= 1
    assert _count(result, "fault.service_pids_surviving") == 0
    pid, _ = _where(root_session)
    assert pid and pid != side_redis[0], "not started again by its start command"
    assert _scopes(root_session) == ""


def test_cpu_fault_throttles_in_opsproofs_group_and_puts_the_process_back(
    guest: GuestState, root_session: SshSession, side_redis: tuple[int, str], tmp_path: Path
) -> None:
    plan = (
        f"may_hit: [side]\nsteady_state: [side]\n{RECOVERY}experiments:\n"
        "  - name: side starved of CPU\n"
        "    fault: {action: cpu, service: side, cpus: 0.2, workers: 2}\n"
        "    duration: 2s\n    deadline: 300s\n"
    )
    result = _run(guest, tmp_path, plan)

    assert result.verdict == "passed", result.reason
    assert _count(result, "fault.throttled_periods") > 0
    assert _where(root_session) == side_redis
    assert _scopes(root_session) == ""


def test_a_quota_that_never_bites_is_not_passed_as_throttling(
    guest: GuestState, root_session: SshSession, side_redis: tuple[int, str], tmp_path: Path
) -> None:
    """The proof detects its absence: a quota of 64 CPUs on a one-CPU guest throttles nothing."""
    plan = (
        f"may_hit: [side]\nsteady_state: [side]\n{RECOVERY}experiments:\n"
        "  - name: side under a roomy quota\n"
        "    fault: {action: cpu, service: side, cpus: 64, workers: 1}\n"
        "    duration: 1s\n    deadline: 300s\n"
    )
    result = _run(guest, tmp_path, plan)

    assert result.verdict != "passed"
    assert "throttled in 0 CFS periods" in result.reason
    assert _where(root_session) == side_redis
    assert _scopes(root_session) == ""


def test_a_killed_process_is_started_again_by_its_start_command(
    guest: GuestState, root_session: SshSession, side_redis: tuple[int, str], tmp_path: Path
) -> None:
    plan = (
        f"may_hit: [side]\nsteady_state: [side]\n{RECOVERY}experiments:\n"
        "  - name: side killed\n    fault: {action: kill, service: side}\n"
    )
    result = _run(guest, tmp_path, plan)

    assert result.verdict == "passed", result.reason
    assert result.restored_by == "revert"
    pid, _ = _where(root_session)
    assert pid and pid != side_redis[0]


def test_a_paused_process_is_resumed_and_the_hosts_own_undo_cancelled(
    guest: GuestState, root_session: SshSession, side_redis: tuple[int, str], tmp_path: Path
) -> None:
    plan = (
        f"may_hit: [side]\nsteady_state: [side]\n{RECOVERY}experiments:\n"
        "  - name: side paused\n    fault: {action: pause, service: side}\n    duration: 3s\n"
    )
    result = _run(guest, tmp_path, plan)

    assert result.verdict == "passed", result.reason
    assert "1 of 1 processes stopped" in result.reason
    state = root_session.run(["sh", "-c", f"grep '^State' /proc/{side_redis[0]}/status"])
    assert "stopped" not in state.text(), state.text()
    assert _where(root_session) == side_redis  # and guest_left_as_found: no opsproof-undo-*


def test_a_start_program_missing_on_the_host_is_refused_before_the_run(
    guest: GuestState, tmp_path: Path
) -> None:
    services = _services(["/usr/bin/no-such-redis", "--port", PORT])
    plan = "may_hit: [side]\nexperiments:\n  - name: k\n    fault: {action: kill, service: side}\n"
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, services, plan))
    _, environment = chaos_run(config, tmp_path)

    [problem] = plan_problems("guest", environment, tmp_path)

    assert problem.path == ("services", "side", "runtime", "process", "start")
    assert "'/usr/bin/no-such-redis' is not an executable file or on PATH there" in problem.message


def test_the_guest_undoes_the_cpu_fault_itself_after_the_runner_is_killed(
    guest: GuestState, root_session: SshSession, side_redis: tuple[int, str], tmp_path: Path
) -> None:
    plan = (
        f"may_hit: [side]\nsteady_state: [side]\nexperiments:\n"
        "  - name: long starvation\n"
        "    fault: {action: cpu, service: side, cpus: 0.2, workers: 1}\n"
        f"    duration: 300s\n    deadline: {GUEST_UNDO}s\n"
    )
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, _services(), plan))
    ledger = Ledger(ledger_path(tmp_path))
    request = RunRequest("chaos", "guest", config, tmp_path, extra_args=("--no-evidence",))
    run = subprocess.Popen(
        pytest_command(request), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        began = time.monotonic()
        while not ((opened := ledger.open_faults()) and SCOPE_PREFIX in _where(root_session)[1]):
            assert run.poll() is None, run.communicate()[0]
            late = opened and time.time() >= opened[0].deadline
            waited = time.monotonic() - began
            if late or waited >= INJECTED:
                os.killpg(run.pid, signal.SIGKILL)
                why = "the guest's own undo came first" if late else f"not within {INJECTED} s"
                printed = run.communicate(timeout=30)[0]
                pytest.fail(f"the side Redis never seen in the scope ({why}); the run:\n{printed}")
            time.sleep(1)
        _kill_watchdog(ledger)
        os.killpg(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)
        injection = ledger.open_faults()[0]
        assert injection, "nobody should be left to revert it from here"
        left = max(0.0, injection.deadline - time.time())
        while _where(root_session) != side_redis:
            assert time.monotonic() - began < INJECTED + left + 60, "the guest did not undo it"
            time.sleep(2)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate(timeout=30)
    assert time.time() >= injection.deadline - 2, "undone before the guest's timer fired"
    while _scopes(root_session):
        assert time.monotonic() - began < INJECTED + left + 90, "the scope was left"
        time.sleep(1)
    by_hand = subprocess.run(
        [sys.executable, "-m", "opsproof.cli", "revert", "--state-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
    assert not ledger.open_faults()
    assert _where(root_session) == side_redis


def _kill_watchdog(ledger: Ledger) -> None:
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "opsproof.faults.watchdog" in cmdline and str(ledger.path) in cmdline:
            proc.kill()


def test_the_gates_runtime_health_reads_the_hand_started_redis_on_its_host(
    guest: GuestState, root_session: SshSession, side_redis: tuple[int, str], tmp_path: Path
) -> None:
    """The same reading the gate makes (``runtime_of``, then the item's check), over SSH: the
    Redis found by its PID file, its figures from the guest's /proc, a restart by hand a new
    identity that fails the next reading."""
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, _services(), "may_hit: [side]\nexperiments: []\n"))
    environment = load_environment(config, "guest").environment
    spec = environment.services["side"].runtime

    def check() -> RuntimeHealthCheck:
        runtime = runtime_of("side", spec, tmp_path, environment.hosts)
        budget = RuntimeSpec.model_validate({**spec.model_dump(), "budget": {"cpu": "50%"}})
        return RuntimeHealthCheck(
            runtime, policy_for(RuntimeHealth(), budget), Baselines(tmp_path, "guest", "side")
        )

    first = check()
    seen = first.observe()
    assert seen.ok, seen.reason
    assert first.last is not None and f"PID {side_redis[0]} started" in first.last.identity
    assert 0 < seen.figures["memory"].value < 64 and seen.figures["open_files"].value > 0
    assert "cpu" in seen.figures and "oom_kills" not in seen.figures
    first.record()

    restart = f"kill $(cat {PID_FILE}); sleep 1; {' '.join(START)}"
    assert root_session.run(["sh", "-c", restart]).ok
    assert poll_until(lambda: _where(root_session)[0] not in (0, side_redis[0]), 30.0)

    again = check().observe()
    assert not again.ok and "started anew" in again.reason, again.reason
