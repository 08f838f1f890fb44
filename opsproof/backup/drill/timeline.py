"""A drill's timeline: each phase with wall-clock moments for the record and monotonic
instants for the measured durations (wall clocks can step; the RTO must not)."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from opsproof.evidence.records import DrillPhase


@dataclass
class Timeline:
    phases: list[DrillPhase] = field(default_factory=list)
    starts: dict[str, float] = field(default_factory=dict)
    """Phase name → monotonic instant it began."""
    ends: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def phase(self, name: str, note: str = "") -> Iterator[None]:
        """Time the block as phase ``name``; an exception marks it failed (and propagates)."""
        began_at = datetime.now(UTC)
        self.starts[name] = time.monotonic()
        try:
            yield
        except BaseException as exc:
            self._close(name, began_at, "failed", f"{note} {type(exc).__name__}: {exc}".strip())
            raise
        self._close(name, began_at, "ok", note)

    def _close(self, name: str, began_at: datetime, outcome: str, note: str) -> None:
        self.ends[name] = time.monotonic()
        self.phases.append(
            DrillPhase(
                name=name,
                started_at=began_at,
                finished_at=datetime.now(UTC),
                outcome="ok" if outcome == "ok" else "failed",
                note=note,
            )
        )

    def between(self, start_phase: str, end_phase: str) -> float | None:
        """Seconds from the start of one phase to the end of another; None if either is missing."""
        if start_phase not in self.starts or end_phase not in self.ends:
            return None
        return self.ends[end_phase] - self.starts[start_phase]
