"""The ledger survives torn writes and keeps failed reverts open; recovery timing is exact to
the polling interval; signals wait for a revert to finish."""

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from opsproof.faults.inverse import RemoveFile
from opsproof.faults.ledger import Injection, Ledger
from opsproof.faults.recovery import measure_recovery
from opsproof.faults.rollback import revert_fault, revert_leftovers
from opsproof.faults.signals import deferred_signals
from opsproof.probes.result import Observation


def injection(fault_id: str, path: Path, owner_pid: int = 1, started: float = 0.0) -> Injection:
    return Injection(
        id=fault_id, experiment="e", fault=f"fill {path}", target="file://x",
        inverse=[RemoveFile(path=path)], deadline=time.time() + 60,
        injected_at=datetime.now(UTC), owner_pid=owner_pid, owner_started=started,
    )  # fmt: skip


def test_open_faults_survive_a_torn_line_and_failed_reverts_stay_open(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "chaos" / "ledger.jsonl")
    filler = tmp_path / "fill"
    filler.write_bytes(b"x")
    ledger.append(injection("a", filler))
    with ledger.path.open("ab") as out:
        out.write(b'{"record": "inject", "id": "torn"')  # the run died mid-write
    assert [entry.id for entry in ledger.open_faults()] == ["a"]
    ledger.close_fault("a", "run", ["could not"])
    assert [entry.id for entry in ledger.open_faults()] == ["a"]  # retried later
    (done,) = revert_leftovers(ledger, "next run", live_owners=False)
    assert done.problems == [] and not filler.exists() and ledger.open_faults() == []


def test_faults_of_a_live_run_are_left_to_it(tmp_path: Path) -> None:
    me = psutil.Process()
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.append(injection("live", tmp_path / "f", me.pid, me.create_time()))
    assert revert_leftovers(ledger, "next run", live_owners=False) == []
    assert len(revert_leftovers(ledger, "opsproof revert", live_owners=True)) == 1


def test_a_live_owner_recorded_by_another_boot_time_reading_is_still_live(tmp_path: Path) -> None:
    """psutil's boot time moves by a second when NTP slews the clock: the owner's start read a
    second off is still the owner; five seconds off, it is another process on a reused PID."""
    me = psutil.Process()
    slewed = injection("live", tmp_path / "f", me.pid, me.create_time() + 1.0)
    reused = injection("live", tmp_path / "f", me.pid, me.create_time() - 5.0)
    assert slewed.owner_alive()
    assert not reused.owner_alive()


def test_a_slow_revert_holds_up_only_its_own_fault(tmp_path: Path) -> None:
    """The watchdog retrying a remote undo over a slow link held one lock for the whole ledger,
    so the run's undo of another fault waited 60 s and failed (found on an emulated guest)."""
    ledger = Ledger(tmp_path / "ledger.jsonl")
    slow, quick = tmp_path / "slow", tmp_path / "quick"
    for path in (slow, quick):
        path.write_bytes(b"x")
        ledger.append(injection(path.name, path))
    with ledger.reverting("slow"):  # another process busy undoing the slow fault
        began = time.monotonic()
        assert revert_fault(ledger, injection("quick", quick), "run") == []
        assert time.monotonic() - began < 5 and not quick.exists()
        with pytest.raises(TimeoutError), ledger.reverting("slow", timeout=0.2):
            pass  # the slow fault's own reverts still wait for each other
    assert [entry.id for entry in ledger.open_faults()] == ["slow"]
    assert sorted(p.name for p in tmp_path.glob("*.lock")) == ["ledger.slow.lock"]


class Flaky:
    """A check that fails until ``up_at`` (monotonic), then passes."""

    def __init__(self, up_at: float) -> None:
        self.up_at = up_at

    def __call__(self) -> Observation:
        return Observation(time.monotonic() >= self.up_at, "t", "")


@pytest.mark.parametrize("interval", [0.02, 0.1])
def test_recovery_is_measured_within_one_polling_interval(interval: float) -> None:
    since = time.monotonic()
    recovery = measure_recovery(
        Flaky(since + 0.3), since, within=5, consecutive=3, interval=interval
    )
    assert recovery.recovered_s is not None and recovery.stable_s is not None
    assert 0.3 <= recovery.recovered_s <= 0.3 + interval + 0.02
    assert recovery.stable_s >= recovery.recovered_s + 2 * interval - 0.01


def test_no_recovery_before_the_deadline() -> None:
    since = time.monotonic()
    recovery = measure_recovery(Flaky(since + 60), since, within=0.3, consecutive=1, interval=0.05)
    assert recovery.recovered_s is None and recovery.first_success_s is None
    assert 0.3 <= time.monotonic() - since < 0.5


def test_a_signal_during_a_revert_waits_for_it() -> None:
    finished = []
    with pytest.raises(KeyboardInterrupt, match="SIGTERM during a revert"), deferred_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        finished.append(True)
    assert finished == [True]
