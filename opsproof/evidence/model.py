"""The evidence model: one run, its checks, their controls, waivers and measured figures.

pydantic dataclasses: a record is validated where it is made, ``evidence.json`` is a faithful
dump of it, and the shipped JSON Schema is generated from these same classes.
"""

from dataclasses import field
from typing import Literal

from pydantic import AwareDatetime, ConfigDict
from pydantic.dataclasses import dataclass

from opsproof.evidence.records import DrillRecord, ExperimentRecord

SCHEMA_VERSION = 2

Outcome = Literal["passed", "failed", "error", "skipped", "waived"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "error", "skipped", "waived")
Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
ControlVerdict = Literal["passed", "failed", "waived", "not_evaluated"]
WaiverStatus = Literal["active", "expired"]

_STRICT = ConfigDict(extra="forbid")


@dataclass(frozen=True, config=_STRICT)
class FigureRecord:
    """A measured value and the target it was judged against."""

    name: str
    value: float | int | str | bool | None
    unit: str = ""
    target: str | None = None


@dataclass(config=_STRICT)
class CheckRecord:
    """One executed pytest item."""

    id: str
    outcome: Outcome
    duration_s: float
    controls: list[str] = field(default_factory=list)
    figures: list[FigureRecord] = field(default_factory=list)
    reason: str = ""
    """Why it failed, was waived or skipped: the probe's reason, never a traceback."""
    title: str = ""
    """The first line of the test's docstring."""
    severity: Severity = "medium"
    """Impact when this check fails (``@pytest.mark.severity``)."""
    owner: str = ""
    """Who fixes it when it fails (``@pytest.mark.owner``)."""
    waiver: str | None = None
    """Ticket of the waiver that covered this check."""


@dataclass(frozen=True, config=_STRICT)
class ChangeIdentity:
    """The change a deploy gate run judges (SOC 2 CC8.1): what was deployed, by whom."""

    version: str = ""
    commit: str = ""
    deployer: str = ""
    ticket: str = ""

    def is_known(self) -> bool:
        return any((self.version, self.commit, self.deployer, self.ticket))


@dataclass(frozen=True, config=_STRICT)
class WaiverRecord:
    """A waiver from the waiver file, as it stood during the run."""

    subject: str
    """The control id or test node id (pattern) it waives."""
    applies_to: Literal["control", "test"]
    justification: str
    approver: str
    ticket: str
    expires: AwareDatetime
    status: WaiverStatus
    applied: list[str] = field(default_factory=list)
    """Checks and controls it turned from failed or not evaluated into waived."""


@dataclass(config=_STRICT)
class RunRecord:
    """A whole run: what was verified, where, when, by whom, and with what result."""

    kind: str
    environment: str
    config_file: str
    started_at: AwareDatetime
    finished_at: AwareDatetime
    opsproof_version: str
    exit_status: int
    checks: list[CheckRecord]
    not_applicable: list[str] = field(default_factory=list)
    """Checks with no target in this environment (e.g. no Prometheus declared)."""
    controls: dict[str, ControlVerdict] = field(default_factory=dict)
    """Every control in scope with its verdict; no executed check means ``not_evaluated``."""
    waivers: list[WaiverRecord] = field(default_factory=list)
    experiments: list[ExperimentRecord] = field(default_factory=list)
    drills: list[DrillRecord] = field(default_factory=list)
    change: ChangeIdentity = field(default_factory=ChangeIdentity)
    operator: str = ""
    host: str = ""
    schedule_interval_s: float | None = None
    """How often a run of this kind is due (nightly chaos: 86400); None when not scheduled."""
    catalogue_version: str = ""
    totals: dict[str, int] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if not self.totals:
            self.totals = {outcome: 0 for outcome in OUTCOMES}
            for check in self.checks:
                self.totals[check.outcome] += 1

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def passed(self) -> bool:
        return self.exit_status == 0
