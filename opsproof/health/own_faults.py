"""opsproof's own faults on a runtime since the baseline, read from the fault ledger: a nightly
chaos run kills Redis on purpose, and the next morning's gate must not call that restart a
crash. Each fault on the runtime itself (kill, stop, restart, pause, memory, CPU: the ledger
entry's target is the runtime's id) may explain one restart; a partition or a disk fill names
another target and explains none. Restarts beyond that count still fail the item."""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from opsproof.faults.ledger import Injection, Ledger, ledger_path


@dataclass(frozen=True)
class OwnFaults:
    """The ledgered faults on one runtime since a moment, oldest first."""

    injections: tuple[Injection, ...] = ()

    def __len__(self) -> int:
        return len(self.injections)

    def named(self) -> str:
        """``'redis killed' at 2026-12-07T03:00:01+00:00 (fault 1f2e…)``, comma-separated."""
        return ", ".join(
            f"'{entry.experiment}' at {entry.injected_at.isoformat(timespec='seconds')} "
            f"(fault {entry.id})"
            for entry in self.injections
        )


def own_faults_since(state_dir: Path, runtime_id: str, since: float) -> OwnFaults:
    """Injections on ``runtime_id`` at or after epoch ``since``, from this state directory's
    ledger (a chaos run kept elsewhere, on another runner, is not seen: its restarts count)."""
    moment = datetime.fromtimestamp(since, UTC)
    return OwnFaults(
        tuple(
            record
            for record in Ledger(ledger_path(state_dir)).records()
            if isinstance(record, Injection)
            and record.target == runtime_id
            and record.injected_at >= moment
        )
    )
