"""What a chaos experiment or a DR drill found: the records its report is made of.

Suites make these and hand them to the ``evidence`` fixture (``record_experiment``,
``record_drill``). They are validated when made, so a mistake fails the test that made it.
Times are seconds; moments are timezone-aware.
"""

from dataclasses import field
from datetime import date
from typing import Literal

from pydantic import AwareDatetime, ConfigDict, NonNegativeFloat, NonNegativeInt
from pydantic.dataclasses import dataclass

from opsproof.evidence.verdict import ExperimentVerdict

IssueSeverity = Literal["critical", "high", "medium", "low"]

_STRICT = ConfigDict(extra="forbid")


@dataclass(frozen=True, config=_STRICT)
class ExperimentRecord:
    """One chaos experiment: steady state, inject, observe, revert, recover.

    Each steady-state probe is polled on its own (every ``poll_interval_s``, monotonic clock)
    from before the injection until recovery is decided; impact, outage and recovery are what
    the pollers observed.
    ``*_offset_s`` are monotonic seconds from ``started_at``; the UTC moments are ``started_at``
    plus the offset. Everything about the fault's effect is None when nothing was injected
    (``injected_at`` is None): never read as "not recovered".
    """

    name: str
    hypothesis: str
    """The steady state expected to hold or return, e.g. "/health/deep answers 200 within 1 s"."""
    fault: str
    """What was injected, e.g. "SIGKILL redis for 10 s"."""
    verdict: ExperimentVerdict
    """inconclusive: the fault had no observable effect; not_injected: the steady state failed
    before it, so nothing was injected."""
    target: str = ""
    started_at: AwareDatetime | None = None
    """When the experiment began (its first steady-state check): the origin of the offsets."""
    injected_at: AwareDatetime | None = None
    """When the fault went in; None: nothing was injected."""
    injected_offset_s: NonNegativeFloat | None = None
    reverted_at: AwareDatetime | None = None
    """When the revert began (opsproof's undo, whatever ended the outage)."""
    reverted_offset_s: NonNegativeFloat | None = None
    held_s: NonNegativeFloat | None = None
    """How long the fault was in place: from the injection to the start of its revert."""
    time_to_impact_s: NonNegativeFloat | None = None
    """From injection to the first observed degradation: a failed steady-state check, or an
    expected error answer seen; None: no degradation was observed (or nothing injected)."""
    outage_s: NonNegativeFloat | None = None
    """From the first failed steady-state check to the first passing one after it (for a fault
    that acts at once, as a kill, from when it took effect: the middle of the window between the
    injection's start or the last passing answer and the injection's return or the first failed
    check; the figure ``outage_start_window_s`` says how wide); 0: every check passed; None:
    nothing injected, or the service was not seen back while observed."""
    outage_offset_s: NonNegativeFloat | None = None
    """When that outage began; None: there was none."""
    outages: NonNegativeInt | None = None
    """Separate outages seen while observed; more than 1: the service flapped."""
    outage_allowed: bool | None = None
    """Whether the expectations allow an outage (an expected error answer, or a fault that takes
    down a service no expectation says keeps answering); False: any outage failed the
    experiment."""
    restored_by: Literal["revert", "supervisor", "service"] | None = None
    """Who ended the outage: opsproof's revert; a supervisor (Docker restart policy) that
    restarted the service before the revert; the service itself before the revert, with no
    restart seen. None: no outage, or not seen back."""
    recovery_s: NonNegativeFloat | None = None
    """From the revert until steady state held again (the first of ``consecutive`` passes);
    None: not recovered (when ``injected_at`` is set)."""
    recovery_target_s: NonNegativeFloat | None = None
    poll_interval_s: NonNegativeFloat | None = None
    """The steady-state poller's interval: the resolution of impact, outage and recovery."""
    reason: str = ""

    @property
    def injected(self) -> bool:
        """False when nothing was injected: the verdict says so, or the record has neither a
        time of injection nor any figure of the fault's effect (an experiment refused before
        its fault); reports then show no recovery rather than "not recovered"."""
        if self.verdict == "not_injected":
            return False
        effect = (self.injected_at, self.time_to_impact_s, self.outage_s, self.recovery_s)
        return any(value is not None for value in effect)

    @property
    def observed(self) -> bool:
        """Impact and outage were observed by opsproof's poller (absent: none was seen), not
        left out by a hand-made record (absent: not measured)."""
        return self.poll_interval_s is not None

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

    def rollback(self) -> str:
        """What a drill that failed after losing the data did to get it back; empty if none."""
        outcome = {phase.name: phase.outcome for phase in self.phases}
        if "roll back" not in outcome:
            return ""
        if outcome["roll back"] != "ok":
            return "ROLLBACK FAILED: see the roll back phase"
        healthy = outcome.get("healthy after roll back") == "ok"
        return "rolled back: original data put back, services " + (
            "healthy" if healthy else "NOT healthy"
        )


@dataclass(frozen=True, config=_STRICT)
class ChartSeries:
    """One line of a load run's chart: a value per second of the run."""

    label: str
    panel: Literal["throughput", "latency"]
    values: list[float | None]
    """Per second from the run's start; None: nothing measured that second."""
    dashed: bool = False
    """What the profile intended, rather than what was measured."""


@dataclass(frozen=True, config=_STRICT)
class RequestNameRecord:
    """One request name of a load run (k6's ``name`` tag) and why its failures failed."""

    name: str
    requests: NonNegativeInt
    failures: NonNegativeInt
    p50_ms: NonNegativeFloat | None = None
    p95_ms: NonNegativeFloat | None = None
    p99_ms: NonNegativeFloat | None = None
    statuses: dict[str, NonNegativeInt] = field(default_factory=dict)
    """Answers by status (``"429": 39``); ``"none"``: no answer (refused, timed out)."""
    errors: dict[str, NonNegativeInt] = field(default_factory=dict)
    """Failures by kind: status mismatch, check failed, connection refused, timeout, …"""
    examples: dict[str, str] = field(default_factory=dict)
    """The first failure of each kind, in words."""


@dataclass(frozen=True, config=_STRICT)
class BaselineFigureRecord:
    """One figure of one request name, this run against its baseline (``--load-baseline``)."""

    name: str
    """A request name, or ``all requests``."""
    metric: Literal["p50", "p95", "p99", "error_rate", "throughput"]
    baseline: float
    now: float
    tolerance: float
    """How much worse it may get, absolute, in the metric's unit (ms, fraction, req/s)."""
    noise: float
    """The noise bound: two standard errors of the difference between two runs."""
    outcome: Literal["regressed", "improved", "unchanged"]


@dataclass(frozen=True, config=_STRICT)
class BaselineRecord:
    """The run a load run was compared with, and every figure of the comparison."""

    run: str
    figures: list[BaselineFigureRecord] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Names the baseline sent requests of and this run did not."""


@dataclass(frozen=True, config=_STRICT)
class LoadRecord:
    """A load run: its profile, the chart of what was sent and measured each second, and the
    requests by name."""

    profile: str
    time_scale: float
    duration_s: NonNegativeFloat
    series: list[ChartSeries] = field(default_factory=list)
    names: list[RequestNameRecord] = field(default_factory=list)
    """Most failures first, then most requests."""
    errors: list[str] = field(default_factory=list)
    """Why the run itself failed (a generator, a user class), not its requests."""
    baseline: BaselineRecord | None = None
    """The comparison with a baseline run, when one was given."""
