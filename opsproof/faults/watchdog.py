"""The watchdog: a detached process that reverts a run's faults when the run cannot.

It reverts any open fault past its deadline, and every open fault of a run that died
(SIGKILL included). It exits once its run is gone and nothing is left open.

    python -m opsproof.faults.watchdog LEDGER OWNER_PID
"""

import subprocess
import sys
import time
from pathlib import Path

import psutil

from opsproof.faults.ledger import Ledger
from opsproof.faults.rollback import revert_fault
from opsproof.support.waiting import POLL_INTERVAL


def watch(ledger: Ledger, owner_pid: int) -> None:
    while True:
        for injection in ledger.open_faults():
            if injection.overdue() or not injection.owner_alive():
                revert_fault(ledger, injection, "watchdog")
        if not _alive(owner_pid) and not ledger.open_faults():
            return
        time.sleep(POLL_INTERVAL)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def start_watchdog(ledger: Ledger, owner_pid: int) -> psutil.Process:
    """Start a watchdog for ``owner_pid`` in a session of its own, so it outlives the run."""
    log = ledger.path.with_name("watchdog.log")
    ledger.path.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "opsproof.faults.watchdog", str(ledger.path), str(owner_pid)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return psutil.Process(proc.pid)


if __name__ == "__main__":
    watch(Ledger(Path(sys.argv[1])), int(sys.argv[2]))
