"""A fault as a transaction: ledger entry fsync'd, then inject; revert always, exactly once."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import psutil

from opsproof.errors import OpsproofError
from opsproof.faults.base import Fault
from opsproof.faults.ledger import Injection, Ledger
from opsproof.faults.rollback import revert_fault
from opsproof.faults.signals import deferred_signals


@dataclass
class Active:
    """A fault in place: its ledger entry and when, on the monotonic clock, it went in and
    (once the block is left) when its revert began."""

    injection: Injection
    injected_at: float = 0.0
    revert_started: float = 0.0


class RevertFailed(OpsproofError):
    """A fault could not be undone; it stays open in the ledger for the watchdog and the next
    run, and ``opsproof revert`` retries it."""


@contextmanager
def injected(
    fault: Fault, ledger: Ledger, fault_id: str, experiment: str, lifetime: float
) -> Iterator[Active]:
    """Inject ``fault`` for the block; revert it on the way out, whatever the way out is.

    ``lifetime`` is the deadline after which the watchdog reverts it even if this process
    hangs or dies.
    """
    inverse = fault.prepare()
    owner = psutil.Process(os.getpid())
    injection = Injection(
        id=fault_id,
        experiment=experiment,
        fault=fault.description,
        target=fault.target,
        inverse=inverse,
        deadline=time.time() + lifetime,
        injected_at=datetime.now(UTC),
        owner_pid=owner.pid,
        owner_started=owner.create_time(),
    )
    ledger.append(injection)  # on disk before the fault exists
    active = Active(injection)
    try:
        active.injected_at = time.monotonic()
        fault.inject()
        yield active
    finally:
        active.revert_started = time.monotonic()
        with deferred_signals():
            problems = revert_fault(ledger, injection, "run")
        if problems:
            raise RevertFailed(f"{fault.description}: " + "; ".join(problems))
