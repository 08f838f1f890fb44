"""A fault as a transaction: ledger entry fsync'd, then the undo armed on the target (if the
fault has one there), then inject; revert always, exactly once.

A class, not a generator: a ``@contextmanager`` hands the fault over in ``next(gen)``, and a
Ctrl-C handled just after the generator yielded (the moment a watcher sees the fault and
signals) leaves it suspended, so the revert waited for the generator's garbage collection —
after pytest's report and ``atexit``, with the fault in place all along. Here ``__enter__``
reverts on any exception once the fault is ledgered, and the revert runs to its end whatever
interrupts arrive (each is acted on after it).
"""

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType

import psutil

from opsproof.errors import RevertFailed
from opsproof.faults.base import Armed, Fault
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


def injected(
    fault: Fault, ledger: Ledger, fault_id: str, experiment: str, lifetime: float
) -> "Transaction":
    """Inject ``fault`` for the ``with`` block; revert it on the way out, whatever the way out.

    ``lifetime`` is the deadline after which the watchdog reverts it even if this process
    hangs or dies. A Ctrl-C (or SIGTERM made one) always ends the run: a revert that fails
    then is noted on the interrupt, not raised in its place, and the fault stays open.
    """
    return Transaction(fault, ledger, fault_id, experiment, lifetime)


class Transaction:
    """One fault's ledger entry, injection and revert (see :func:`injected`)."""

    def __init__(
        self, fault: Fault, ledger: Ledger, fault_id: str, experiment: str, lifetime: float
    ) -> None:
        self.fault, self.ledger = fault, ledger
        self.fault_id, self.experiment, self.lifetime = fault_id, experiment, lifetime
        self.active: Active | None = None

    def __enter__(self) -> Active:
        inverse = self.fault.prepare()
        owner = psutil.Process(os.getpid())
        injection = Injection(
            id=self.fault_id,
            experiment=self.experiment,
            fault=self.fault.description,
            target=self.fault.target,
            inverse=inverse,
            deadline=time.time() + self.lifetime,
            injected_at=datetime.now(UTC),
            owner_pid=owner.pid,
            owner_started=owner.create_time(),
        )
        self.ledger.append(injection)  # on disk before the fault exists
        self.active = active = Active(injection)
        try:
            if isinstance(self.fault, Armed):
                self.fault.arm()
            active.injected_at = time.monotonic()
            self.fault.inject()
        except BaseException as exc:
            self._revert(exc)
            raise
        return active

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._revert(exc)

    def _revert(self, cause: BaseException | None) -> None:
        assert self.active is not None
        self.active.revert_started = time.monotonic()
        problems, interrupt = self._revert_through_interrupts(self.active.injection)
        failure = RevertFailed(f"{self.fault.description}: " + "; ".join(problems))
        stop = cause if isinstance(cause, KeyboardInterrupt) else interrupt
        if stop is None:
            if problems:
                raise failure
            return
        if problems:
            stop.add_note(f"opsproof: revert failed, the fault stays open: {failure}")
        if stop is not cause:
            raise stop
        # else the block's own interrupt goes on as it is: Ctrl-C ends the run

    def _revert_through_interrupts(
        self, injection: Injection
    ) -> tuple[list[str], KeyboardInterrupt | None]:
        """Revert; a Ctrl-C that lands before the signals are held only starts it again
        (``revert_fault`` is idempotent). The last interrupt that arrived meanwhile."""
        problems: list[str] | None = None
        interrupt = None
        while problems is None:
            try:
                with deferred_signals():
                    problems = revert_fault(self.ledger, injection, "run")
            except KeyboardInterrupt as exc:  # before the hold took, or held until the end
                interrupt = exc
            except Exception as exc:  # the ledger itself failed (its lock, the disk)
                problems = [f"ledger: {type(exc).__name__}: {exc}"]
        return problems, interrupt
