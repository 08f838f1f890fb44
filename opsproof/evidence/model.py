"""The evidence model: one run, its checks, their controls and measured figures.

Plain dataclasses so that ``evidence.json`` is a faithful, versioned dump of them.
"""

from dataclasses import dataclass, field
from typing import Literal

SCHEMA_VERSION = 1

Outcome = Literal["passed", "failed", "error", "skipped"]


@dataclass(frozen=True)
class FigureRecord:
    """A measured value and the target it was judged against."""

    name: str
    value: float | int | str | bool | None
    unit: str = ""
    target: str | None = None


@dataclass
class CheckRecord:
    """One executed pytest item."""

    id: str
    outcome: Outcome
    duration_s: float
    controls: list[str] = field(default_factory=list)
    figures: list[FigureRecord] = field(default_factory=list)
    reason: str = ""
    """Why it failed (or was skipped): the probe's reason, never a traceback."""


@dataclass
class RunRecord:
    """A whole run: what was verified, where, when, and with what result."""

    kind: str
    environment: str
    config_file: str
    started_at: str
    finished_at: str
    opsproof_version: str
    exit_status: int
    checks: list[CheckRecord]
    not_applicable: list[str] = field(default_factory=list)
    """Checks with no target in this environment (e.g. no Prometheus declared)."""
    schema_version: int = SCHEMA_VERSION

    def totals(self) -> dict[str, int]:
        counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
        for check in self.checks:
            counts[check.outcome] += 1
        return counts

    def controls(self) -> dict[str, str]:
        """Each control's verdict: failed if any of its checks failed, else passed."""
        verdicts: dict[str, str] = {}
        for check in self.checks:
            for control in check.controls:
                if check.outcome in ("failed", "error"):
                    verdicts[control] = "failed"
                elif check.outcome == "passed":
                    verdicts.setdefault(control, "passed")
                else:
                    verdicts.setdefault(control, "not_evaluated")
        return dict(sorted(verdicts.items()))
