"""What a chaos experiment or a DR drill found: the records its report is made of.

Suites make these and hand them to the ``evidence`` fixture (``record_experiment``,
``record_drill``). They are validated when made, so a mistake fails the test that made it.
Times are seconds; moments are timezone-aware.
"""

from dataclasses import field
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, ConfigDict, NonNegativeFloat
from pydantic.dataclasses import dataclass

from opsproof.evidence.verdict import ExperimentVerdict

IssueSeverity = Literal["critical", "high", "medium", "low"]

_STRICT = ConfigDict(extra="forbid")


@dataclass(frozen=True, config=_STRICT)
class ExperimentRecord:
    """One chaos experiment: steady state, inject, observe, revert, recover."""

    name: str
    hypothesis: str
    """The steady state expected to hold or return, e.g. "/health/deep answers 200 within 1 s"."""
    fault: str
    """What was injected, e.g. "SIGKILL redis for 10 s"."""
    verdict: ExperimentVerdict
    """inconclusive: the fault had no observable effect; not_injected: the steady state failed
    before it, so nothing was injected."""
    target: str = ""
    injected_at: AwareDatetime | None = None
    time_to_impact_s: NonNegativeFloat | None = None
    """From injection to the first failed steady-state probe; None: no observable impact."""
    recovery_s: NonNegativeFloat | None = None
    """From revert until steady state held again; None: it did not recover."""
    recovery_target_s: NonNegativeFloat | None = None
    reason: str = ""

    def recovered_in_time(self) -> bool | None:
        """None when there is no target or no recovery to judge."""
        if self.recovery_target_s is None or self.recovery_s is None:
            return None
        return self.recovery_s <= self.recovery_target_s


@dataclass(frozen=True, config=_STRICT)
class RecoveryObjective:
    """RTO and RPO of one system: the target and what the drill achieved."""

    system: str
    rto_target_s: NonNegativeFloat
    rto_achieved_s: NonNegativeFloat | None
    """None: the system was not recovered."""
    rpo_target_s: NonNegativeFloat
    rpo_achieved_s: NonNegativeFloat | None
    """Age of the newest data the restore brought back; None: nothing was restored."""

    def rto_met(self) -> bool:
        return self.rto_achieved_s is not None and self.rto_achieved_s <= self.rto_target_s

    def rpo_met(self) -> bool:
        return self.rpo_achieved_s is not None and self.rpo_achieved_s <= self.rpo_target_s


@dataclass(frozen=True, config=_STRICT)
class DrillPhase:
    """One step of the drill's timeline: declare, back up, restore, verify, service healthy."""

    name: str
    started_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    outcome: Literal["ok", "failed", "skipped"] = "ok"
    note: str = ""

    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, config=_STRICT)
class IntegrityResult:
    """One comparison of restored data with what was backed up."""

    system: str
    check: str
    """e.g. "row count of jobs", "sha256 of every file"."""
    passed: bool
    expected: str = ""
    actual: str = ""


@dataclass(frozen=True, config=_STRICT)
class DrillIssue:
    """Something the drill found, and what will be done about it."""

    description: str
    severity: IssueSeverity = "medium"
    corrective_action: str = ""
    owner: str = ""
    due: date | None = None
    ticket: str = ""


@dataclass(frozen=True, config=_STRICT)
class SignOff:
    """A person who signs the drill protocol; ``signed_at`` stays empty for a wet signature."""

    role: str
    name: str = ""
    signed_at: AwareDatetime | None = None


@dataclass(frozen=True, config=_STRICT)
class DrillRecord:
    """A disaster-recovery drill, with everything its protocol must show an auditor."""

    scenario: str
    scope: list[str]
    """The systems the drill covers."""
    objectives: list[RecoveryObjective]
    phases: list[DrillPhase] = field(default_factory=list)
    integrity: list[IntegrityResult] = field(default_factory=list)
    issues: list[DrillIssue] = field(default_factory=list)
    sign_off: list[SignOff] = field(default_factory=list)
    """Who signs besides the operator; empty: an approver line is printed."""
    next_drill_due: date | None = None
    """Default in reports: the run's start plus its schedule interval."""

    def objectives_met(self) -> bool:
        return all(o.rto_met() and o.rpo_met() for o in self.objectives)

    def integrity_ok(self) -> bool:
        return all(result.passed for result in self.integrity)
