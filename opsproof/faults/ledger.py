"""The fault ledger: an append-only, fsync'd record of every injection and every revert.

A fault is written here (target, inverse operations, deadline) and flushed to disk *before* it
is injected, so whatever happens to the run afterwards — failure, Ctrl-C, SIGKILL, a power cut —
the watchdog, the next run or ``opsproof revert`` can find it and undo it.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import psutil
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from opsproof.faults.inverse import InverseStep
from opsproof.support.filelock import exclusive
from opsproof.support.processes import same_start

LEDGER_DIR = "chaos"
LEDGER_FILE = "ledger.jsonl"
LOCK_TIMEOUT = 60.0

FaultId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
"""Names the fault's lock file: a ledger line cannot point it elsewhere."""

RevertedBy = Literal["run", "watchdog", "next run", "opsproof revert", "kept"]
"""Who closed an entry; ``kept``: a DR drill that passed keeps its restore, nothing undone."""


class Injection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record: Literal["inject"] = "inject"
    id: FaultId
    experiment: str
    fault: str
    target: str
    inverse: list[InverseStep]
    deadline: float
    """Wall-clock epoch seconds: readable by any process, and after a reboot."""
    injected_at: AwareDatetime
    owner_pid: int
    owner_started: float
    """psutil create time of the owner: tells a live run from a recycled PID."""

    def owner_alive(self) -> bool:
        """The run that injected it still runs (a zombie, dead but not yet reaped, does not)."""
        try:
            owner = psutil.Process(self.owner_pid)
            return same_start(owner.create_time(), self.owner_started) and (
                owner.status() != psutil.STATUS_ZOMBIE
            )
        except psutil.Error:
            return False

    def overdue(self) -> bool:
        return time.time() >= self.deadline


class Reversal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record: Literal["revert"] = "revert"
    id: FaultId
    by: RevertedBy
    at: AwareDatetime
    problems: list[str] = Field(default_factory=list)
    """Empty: fully reverted. Otherwise the fault stays open and is tried again."""


Record = Annotated[Injection | Reversal, Field(discriminator="record")]
_RECORD: TypeAdapter[Injection | Reversal] = TypeAdapter(Record)


def ledger_path(state_dir: Path) -> Path:
    return state_dir / LEDGER_DIR / LEDGER_FILE


class Ledger:
    """One ledger file; safe to use from several processes at once."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: Injection | Reversal) -> None:
        """Append one line and fsync it (and the directory, when the file is new)."""
        new = not self.path.exists()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = _RECORD.dump_json(record) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def records(self) -> list[Injection | Reversal]:
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        # a torn last line (crash mid-write) is skipped: its fault was never injected
        found = []
        for line in lines:
            try:
                found.append(_RECORD.validate_json(line))
            except ValueError:
                continue
        return found

    def open_faults(self) -> list[Injection]:
        """Injections without a clean revert, oldest first."""
        injected: dict[str, Injection] = {}
        for record in self.records():
            if isinstance(record, Injection):
                injected[record.id] = record
            elif not record.problems:
                injected.pop(record.id, None)
        return list(injected.values())

    def close_fault(self, fault_id: str, by: RevertedBy, problems: list[str]) -> None:
        self.append(Reversal(id=fault_id, by=by, at=datetime.now(UTC), problems=problems))

    @contextmanager
    def reverting(self, fault_id: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Serialise the reverts of one fault between the run, the watchdog and ``opsproof
        revert``. The lock is the fault's own, not the ledger's: a slow undo (a remote host
        behind a slow link, retried by the watchdog) must not hold up the undo of another fault.
        Its file goes once the fault is closed cleanly; a process that still waited on it finds
        the fault closed and does nothing."""
        lock = self.path.with_name(f"{self.path.stem}.{fault_id}.lock")
        with exclusive(lock, timeout):
            yield
            if fault_id not in {entry.id for entry in self.open_faults()}:
                lock.unlink(missing_ok=True)
