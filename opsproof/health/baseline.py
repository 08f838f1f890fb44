"""Previous readings of a service's runtime, kept under opsproof's state directory so the
next gate run can tell whether it restarted since: one small JSON file per environment and
service (``<state>/runtime-health/<environment>/<service>.json``), replaced atomically."""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

KEEP = 500
"""Readings kept per service: a year of daily gates, a week of hourly ones."""


@dataclass(frozen=True)
class Record:
    at: float
    """Epoch seconds of the reading."""
    identity: str
    restarts: int | None
    epoch: str


class Baselines:
    """The readings of one service in one environment."""

    def __init__(self, state_dir: Path, environment: str, service: str) -> None:
        self.path = state_dir / "runtime-health" / environment / f"{service}.json"

    def records(self) -> list[Record]:
        try:
            rows = json.loads(self.path.read_text())
            return [Record(**row) for row in rows]
        except (OSError, ValueError, TypeError):
            return []  # none yet, or unreadable: the next reading starts afresh

    def baseline(self, since: Literal["previous"] | float, now: float) -> Record | None:
        """The reading to compare with: the latest one (``previous``), or the latest at least
        ``since`` seconds old, else the oldest there is."""
        records = self.records()
        if not records:
            return None
        if since == "previous":
            return records[-1]
        old_enough = [record for record in records if record.at <= now - since]
        return old_enough[-1] if old_enough else records[0]

    def add(self, record: Record) -> None:
        records = [*self.records(), record][-KEEP:]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps([asdict(row) for row in records]))
        partial.replace(self.path)
