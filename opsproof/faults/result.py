"""What one experiment found: its verdict, its timeline and its figures (for the evidence)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from opsproof.evidence.verdict import ExperimentVerdict
from opsproof.probes.result import Figure

RestoredBy = Literal["revert", "supervisor", "service"]
"""Who ended the outage: opsproof's revert; the service's supervisor (a restart policy) while
the fault was still in place; the service itself while the fault was in place (no restart by a
supervisor was seen)."""


@dataclass
class Result:
    """Times are seconds; ``*_offset_s`` count on the monotonic clock from ``started_at`` (the
    experiment's first steady-state check); UTC moments are ``started_at`` plus the offset.
    Everything about the fault's effect stays None when nothing was injected."""

    name: str
    verdict: ExperimentVerdict
    reason: str
    fault: str
    target: str
    hypothesis: str
    recovery_target_s: float
    poll_interval_s: float
    outage_allowed: bool
    started_at: datetime | None = None
    injected_at: datetime | None = None
    injected_offset_s: float | None = None
    reverted_at: datetime | None = None
    reverted_offset_s: float | None = None
    held_s: float | None = None
    time_to_impact_s: float | None = None
    outage_s: float | None = None
    outage_offset_s: float | None = None
    outages: int | None = None
    restored_by: RestoredBy | None = None
    recovery_s: float | None = None
    figures: dict[str, Figure] = field(default_factory=dict)
