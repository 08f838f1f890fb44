"""A remote fault is undone on the target itself when the runner cannot: the runner SIGKILLed
with its watchdog, and the runner↔target connection cut, both mid-freeze of the guest's Redis;
the undo scheduled on the guest before the injection (systemd-run --on-active=<deadline>)
thaws it. Afterwards ``opsproof revert`` closes the ledger entry, the undo being idempotent."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from opsproof.faults.ledger import Injection, Ledger, ledger_path
from opsproof.faults.unit_inverse import DEADMAN_PREFIX
from opsproof.runner import RunRequest, pytest_command
from opsproof.testhost.machine import GuestState
from opsproof.transport.ssh import SshSession
from opsproof.transport.systemctl import read_unit
from tests.testhost.units import config_text, redis_answers

DEADLINE = 25.0
PLAN = f"""\
may_hit: [cache]
steady_state: [cache]
experiments:
  - name: long freeze
    fault: {{action: pause, service: cache}}
    duration: 300s
    deadline: {DEADLINE:g}s
"""
CUT_TABLE = "opsproof_hosts2_cut"


def _wait(check: object, timeout: float, what: str) -> float:
    assert callable(check)
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < timeout, f"{what}: not within {timeout:g} s"
        time.sleep(0.2)
    return time.monotonic() - began


@contextmanager
def _run_holding_redis_frozen(
    guest: GuestState, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[str], Injection, Ledger]]:
    """``opsproof run chaos`` in a process of its own, once Redis is frozen and ledgered."""
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, "", PLAN))
    ledger = Ledger(ledger_path(tmp_path))
    request = RunRequest("chaos", "guest", config, tmp_path, extra_args=("--no-evidence",))
    run = subprocess.Popen(
        pytest_command(request), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        _wait(lambda: ledger.open_faults() and not redis_answers(guest), 120, "redis frozen")
        yield run, ledger.open_faults()[0], ledger
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.communicate(timeout=30)


def _kill_watchdog(ledger: Ledger) -> bool:
    """SIGKILL the run's watchdog (found by its ledger's path); whether one was running."""
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "opsproof.faults.watchdog" in cmdline and str(ledger.path) in cmdline:
            proc.kill()
            return True
    return False


def _after(injection: Injection) -> float:
    """Seconds left until the fault's deadline (when the guest's timer fires)."""
    return max(0.0, injection.deadline - time.time())


def _revert_by_hand(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsproof.cli", "revert", "--state-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _no_deadman_left(root: SshSession) -> None:
    units = root.run(["systemctl", "list-units", "--all", "--plain", f"{DEADMAN_PREFIX}*"]).text()
    assert DEADMAN_PREFIX not in units, units


def test_the_guest_thaws_redis_itself_after_the_runner_and_its_watchdog_are_killed(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    with _run_holding_redis_frozen(guest, tmp_path) as (run, injection, ledger):
        assert _kill_watchdog(ledger), "the run started no watchdog"  # first: it would revert
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(30)
        assert ledger.open_faults(), "nobody should be left to revert it from here"
        left = _after(injection)

        took = _wait(lambda: redis_answers(guest), left + 30, "thawed by the guest")

    assert took >= left - 2  # the guest's timer, not someone earlier
    assert read_unit(root_session, "redis-server.service").freezer_state == "running"
    _no_deadman_left(root_session)
    by_hand = _revert_by_hand(tmp_path)
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
    assert not ledger.open_faults()


def _cut(port: int) -> None:
    """Drop this machine's packets to the guest's forwarded SSH port (loopback only)."""
    rules = (
        f"add table inet {CUT_TABLE}\n"
        f"add chain inet {CUT_TABLE} out {{ type filter hook output priority 0; }}\n"
        f"add rule inet {CUT_TABLE} out ip daddr 127.0.0.1 tcp dport {port} drop\n"
    )
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True, timeout=10)


def _heal() -> None:
    subprocess.run(["nft", "delete", "table", "inet", CUT_TABLE], check=False, timeout=10)


def test_the_guest_thaws_redis_itself_when_the_connection_is_cut(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    with _run_holding_redis_frozen(guest, tmp_path) as (run, injection, ledger):
        _cut(guest.ports["ssh"])
        try:
            left = _after(injection)
            took = _wait(lambda: redis_answers(guest), left + 30, "thawed")
            still_open = bool(ledger.open_faults())
        finally:
            _heal()
        _kill_watchdog(ledger)
        os.killpg(run.pid, signal.SIGKILL)

    assert took >= left - 2
    assert still_open, "the runner could not have reverted it through a cut connection"
    assert read_unit(root_session, "redis-server.service").freezer_state == "running"
    _no_deadman_left(root_session)
    by_hand = _revert_by_hand(tmp_path)
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
    assert not ledger.open_faults()
