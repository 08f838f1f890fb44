"""Faults never outlive their run: SIGTERM reverts like Ctrl-C, the watchdog reverts for a run
that was SIGKILLed, and when the watchdog died too the next run (or ``opsproof revert``)
reverts and reports what it found. Tested by killing real pytest processes mid-fault."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from opsproof.config.models import ProcessRuntimeSpec
from opsproof.errors import RevertFailed
from opsproof.faults.ledger import Injection, Ledger, ledger_path
from opsproof.faults.process_faults import ProcessFault
from opsproof.faults.transaction import injected
from opsproof.runner import RunRequest, pytest_command
from opsproof.runtimes.launched import StackState
from opsproof.runtimes.process import ProcessTarget

WriteConfig = Callable[..., Path]
PLAN = """\
may_hit: [redis]
steady_state: [redis]
experiments:
  - name: long pause
    fault: {action: pause, service: redis}
    duration: 60s
    deadline: 30s
  - name: quick kill
    fault: {action: kill, service: redis}
"""


def redis_paused(stack_dir: Path) -> bool:
    state = StackState.load(stack_dir)
    assert state is not None
    return psutil.Process(state.components["redis"].pid).status() == psutil.STATUS_STOPPED


def wait_for(check: Callable[[], object], timeout: float, what: str) -> float:
    """Poll every 50 ms; the seconds it took."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < timeout, f"{what}: not within {timeout:g} s"
        time.sleep(0.05)
    return time.monotonic() - start


def suite(config: Path, stack_dir: Path, *args: str) -> list[str]:
    """The command `opsproof run chaos` runs (without evidence)."""
    request = RunRequest("chaos", "lab", config, stack_dir, extra_args=("--no-evidence", *args))
    return pytest_command(request)


IGNORING_SIGINT = ["sh", "-c", 'trap "" INT; exec "$@"', "sh"]
"""Starts a command the way a non-interactive shell starts a background job (``run &``, as CI
scripts do): with SIGINT ignored, which the command and everything it starts inherit."""


@pytest.fixture
def launcher(request: pytest.FixtureRequest) -> list[str]:
    """What the run is started through: directly (the default) or ``IGNORING_SIGINT``."""
    prefix: list[str] = getattr(request, "param", [])
    return prefix


@pytest.fixture
def mid_fault(
    healthy_stack: StackState, stack_dir: Path, write_config: WriteConfig, launcher: list[str]
) -> Iterator[tuple[subprocess.Popen[str], Injection]]:
    """A chaos run holding redis paused (deadline 30 s), and its ledger entry."""
    ledger = Ledger(ledger_path(stack_dir))
    run = subprocess.Popen(
        [*launcher, *suite(write_config(PLAN), stack_dir, "-k", "long")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    wait_for(lambda: ledger.open_faults() and redis_paused(stack_dir), 20, "fault injected")
    yield run, ledger.open_faults()[0]
    if run.poll() is None:
        os.killpg(run.pid, signal.SIGKILL)
    run.communicate(timeout=30)


def watchdog_of(ledger: Path) -> psutil.Process:
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "opsproof.faults.watchdog" in cmdline and str(ledger) in cmdline:
            return proc
    raise AssertionError("no watchdog running")


def reverted_by(stack_dir: Path, injection: Injection) -> set[str]:
    ledger = Ledger(ledger_path(stack_dir))
    return {r.by for r in ledger.records() if r.record == "revert" and r.id == injection.id}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda sig: sig.name)
def test_sigterm_and_ctrl_c_revert_before_the_run_exits(
    sig: signal.Signals, mid_fault: tuple[subprocess.Popen[str], Injection], stack_dir: Path
) -> None:
    run, injection = mid_fault
    run.send_signal(sig)
    output, _ = run.communicate(timeout=30)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output
    assert not redis_paused(stack_dir)
    assert reverted_by(stack_dir, injection) == {"run"}


@pytest.mark.parametrize("launcher", [IGNORING_SIGINT], ids=["SIGINT ignored"], indirect=True)
def test_ctrl_c_reverts_a_run_that_inherited_sigint_ignored(
    mid_fault: tuple[subprocess.Popen[str], Injection], stack_dir: Path
) -> None:
    """Python leaves an inherited SIG_IGN alone: the run must take SIGINT itself."""
    run, injection = mid_fault
    # what the run started before the experiment inherited its disposition: SIGINT ignored
    assert signal.SIGINT in ignored_signals(watchdog_of(ledger_path(stack_dir)).pid)
    run.send_signal(signal.SIGINT)
    output, _ = run.communicate(timeout=30)
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output
    assert not redis_paused(stack_dir)
    assert reverted_by(stack_dir, injection) == {"run"}


def ignored_signals(pid: int) -> set[signal.Signals]:
    """The signals ``pid`` ignores (``SigIgn`` in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            mask = int(line.split()[1], 16)
            return {sig for sig in signal.Signals if mask & (1 << (sig - 1))}
    return set()


def test_watchdog_reverts_for_a_run_killed_with_sigkill(
    mid_fault: tuple[subprocess.Popen[str], Injection], stack_dir: Path
) -> None:
    run, injection = mid_fault
    watchdog = watchdog_of(ledger_path(stack_dir))
    run.kill()  # SIGKILL: no finally block, no handler runs in the run itself
    took = wait_for(lambda: not redis_paused(stack_dir), 10, "watchdog revert")
    assert took < injection.deadline - time.time()  # well within the fault's deadline
    # the watchdog records the revert in the ledger right after it has undone the fault
    wait_for(lambda: reverted_by(stack_dir, injection) == {"watchdog"}, 5, "revert recorded")
    wait_for(
        lambda: not watchdog.is_running() or watchdog.status() == psutil.STATUS_ZOMBIE,
        5,
        "watchdog exit",
    )


def test_next_run_reverts_and_reports_what_a_dead_run_and_watchdog_left(
    mid_fault: tuple[subprocess.Popen[str], Injection], stack_dir: Path, write_config: WriteConfig
) -> None:
    run, injection = mid_fault
    watchdog_of(ledger_path(stack_dir)).kill()
    run.kill()
    time.sleep(0.3)  # give a (wrongly) surviving reverter the chance to act
    assert redis_paused(stack_dir), "nobody should have reverted yet"
    config = write_config(PLAN)
    after = subprocess.run(
        suite(config, stack_dir, "-k", "quick"), capture_output=True, text=True, timeout=120
    )
    assert after.returncode == 0, after.stdout
    assert "fault left by an earlier run: SIGSTOP process://redis" in after.stdout, after.stdout
    assert reverted_by(stack_dir, injection) == {"next run"}
    assert not redis_paused(stack_dir)


def test_opsproof_revert_by_hand(
    mid_fault: tuple[subprocess.Popen[str], Injection], stack_dir: Path
) -> None:
    run, injection = mid_fault
    watchdog_of(ledger_path(stack_dir)).kill()
    run.kill()
    cli = [sys.executable, "-m", "opsproof.cli", "revert", "--state-dir", str(stack_dir)]
    listed = subprocess.run([*cli, "--dry-run"], capture_output=True, text=True, timeout=60)
    assert "open: SIGSTOP process://redis" in listed.stdout and redis_paused(stack_dir)
    done = subprocess.run(cli, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SIGSTOP process://redis (experiment 'long pause'" in done.stdout
    assert not redis_paused(stack_dir)
    assert reverted_by(stack_dir, injection) == {"opsproof revert"}


@pytest.fixture
def unrestartable(tmp_path: Path) -> Iterator[ProcessFault]:
    """A kill of a real process that nothing can start again (no start command), so its revert
    fails at once."""
    sleeper = subprocess.Popen(["sleep", "300"])
    pid_file = tmp_path / "sleeper.pid"
    pid_file.write_text(str(sleeper.pid))
    spec = ProcessRuntimeSpec(pid_file=pid_file)
    yield ProcessFault("kill", ProcessTarget(name="sleeper", spec=spec, state_dir=tmp_path))
    sleeper.kill()
    sleeper.wait(10)


def test_ctrl_c_ends_the_run_even_when_the_revert_fails(
    unrestartable: ProcessFault, tmp_path: Path
) -> None:
    """The failed revert is noted on the interrupt, never raised in its place: the experiment
    runner goes on after a RevertFailed, so Ctrl-C would be lost and the next fault injected."""
    ledger = Ledger(tmp_path / "ledger.jsonl")
    with (
        pytest.raises(KeyboardInterrupt) as interrupted,
        injected(unrestartable, ledger, "ctrl-c", "e", 30.0),
    ):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C mid-fault, delivered at once
        time.sleep(5)
    notes = getattr(interrupted.value, "__notes__", [])
    assert any("revert failed" in note and "no start command" in note for note in notes), notes
    assert [entry.id for entry in ledger.open_faults()] == ["ctrl-c"]  # left to the watchdog


def test_a_failed_revert_without_an_interrupt_is_a_revert_failure(
    unrestartable: ProcessFault, tmp_path: Path
) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    with (
        pytest.raises(RevertFailed, match="no start command"),
        injected(unrestartable, ledger, "plain", "e", 30.0),
    ):
        pass
    assert [entry.id for entry in ledger.open_faults()] == ["plain"]
