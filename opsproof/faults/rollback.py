"""Reverting ledgered faults: by the run itself, its watchdog, the next run or by hand."""

import os
from dataclasses import dataclass

from opsproof.faults.inverse import revert
from opsproof.faults.ledger import Injection, Ledger, Reversal, RevertedBy
from opsproof.faults.signals import deferred_signals


@dataclass(frozen=True)
class Reverted:
    injection: Injection
    problems: list[str]
    """Empty when the fault is fully undone."""

    def describe(self) -> str:
        entry = self.injection
        state = "reverted" if not self.problems else "REVERT FAILED: " + "; ".join(self.problems)
        when = entry.injected_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return (
            f"{entry.fault} (experiment {entry.experiment!r}, injected {when} by pid "
            f"{entry.owner_pid}): {state}"
        )


def revert_fault(ledger: Ledger, injection: Injection, by: RevertedBy) -> list[str]:
    """Undo one fault unless someone already did; record the outcome. The problems, worded."""
    with ledger.reverting(injection.id):
        if injection.id not in {entry.id for entry in ledger.open_faults()}:
            return []
        problems = revert(injection.inverse)
        ledger.close_fault(injection.id, by, problems)
    return problems


def revert_leftovers(ledger: Ledger, by: RevertedBy, *, live_owners: bool) -> list[Reverted]:
    """Revert open faults whose run is gone (and those of live runs when ``live_owners``)."""
    done = []
    for injection in ledger.open_faults():
        if injection.owner_alive() and not live_owners:
            continue
        done.append(Reverted(injection, revert_fault(ledger, injection, by)))
    return done


def revert_own(ledger: Ledger) -> list[Reverted]:
    """Revert the faults this process injected that nothing tried to revert yet, signals held
    until each is done: the last line inside a run, for an interrupt that landed where no block
    could revert (a failed revert is left to the watchdog, which retries it)."""
    tried = {record.id for record in ledger.records() if isinstance(record, Reversal)}
    done = []
    for injection in ledger.open_faults():
        if injection.id in tried or injection.owner_pid != os.getpid():
            continue
        if injection.owner_alive():
            with deferred_signals():
                done.append(Reverted(injection, revert_fault(ledger, injection, "run")))
    return done
