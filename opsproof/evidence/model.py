"""The evidence model: one run, its checks, their controls, waivers and measured figures.

pydantic dataclasses: a record is validated where it is made, ``evidence.json`` is a faithful
dump of it, and the shipped JSON Schema is generated from these same classes.
"""

from dataclasses import field
from typing import Literal, get_args

from pydantic import AwareDatetime, ConfigDict
from pydantic.dataclasses import dataclass

from opsproof.evidence.records import DrillRecord, ExperimentRecord, LoadRecord
from opsproof.evidence.verdict import CheckVerdict, ControlVerdict, RunVerdict

SCHEMA_VERSION = 3

CHECK_VERDICTS: tuple[CheckVerdict, ...] = get_args(CheckVerdict)
Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
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
    verdict: CheckVerdict
    duration_s: float
    controls: list[str] = field(default_factory=list)
    figures: list[FigureRecord] = field(default_factory=list)
    reason: str = ""
    """Why it failed, was waived or not passed: the probe's reason, never a traceback."""
    phase: Literal["setup", "call", "teardown"] = "call"
    """Where the verdict was decided: a failed ``setup`` is an error before the check ran."""
    title: str = ""
    """The first line of the test's docstring."""
    severity: Severity = "medium"
    """Impact when this check fails (``@pytest.mark.severity``)."""
    owner: str = ""
    """Who fixes it when it fails (``@pytest.mark.owner``)."""
    waiver: str | None = None
    """Ticket of the waiver that covered this check."""
    collected_at: AwareDatetime | None = None
    """When its verdict was decided (the end of its last phase); absent in older runs."""


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
    risk: str = ""
    """The accepted risk: low, medium, high, critical, or a sentence justifying it; empty in
    runs recorded before waivers asked for it."""


@dataclass(frozen=True, config=_STRICT)
class Selection:
    """Which of the suite's items this run was asked to run: a partial run is labelled so."""

    keyword: str = ""
    """``-k`` expression."""
    markers: str = ""
    """``-m`` expression."""
    args: list[str] = field(default_factory=list)
    """Paths and node ids narrower than the whole suite."""
    deselected: int = 0
    not_run: int = 0
    """Collected and selected, but never reported (``-x``, an interrupt)."""

    @property
    def partial(self) -> bool:
        return bool(self.keyword or self.markers or self.args or self.deselected or self.not_run)


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
    """The process's exit status (docs/evidence.md: exit codes)."""
    checks: list[CheckRecord]
    verdict: RunVerdict = "inconclusive"
    """failed: an item failed; passed: none failed and at least one exercised the target and
    passed; inconclusive: nothing was exercised (all inconclusive, not applicable, dry run)."""
    dry_run: bool = False
    """A plan was printed and nothing touched: never a result, never counts toward a schedule."""
    selection: Selection = field(default_factory=Selection)
    controls: dict[str, ControlVerdict] = field(default_factory=dict)
    """Every control in scope with its verdict; no executed check means ``not_evaluated``."""
    waivers: list[WaiverRecord] = field(default_factory=list)
    experiments: list[ExperimentRecord] = field(default_factory=list)
    drills: list[DrillRecord] = field(default_factory=list)
    loads: list[LoadRecord] = field(default_factory=list)
    """Load runs: the chart and the requests by name."""
    change: ChangeIdentity = field(default_factory=ChangeIdentity)
    operator: str = ""
    host: str = ""
    schedule_interval_s: float | None = None
    """How often a run of this kind is due (nightly chaos: 86400); None when not scheduled."""
    catalogue_version: str = ""
    totals: dict[str, int] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.dry_run and self.verdict == "passed":
            raise ValueError("a dry run touches nothing, so it is never passed")
        if not self.totals:
            self.totals = {verdict: 0 for verdict in CHECK_VERDICTS}
            for check in self.checks:
                self.totals[check.verdict] += 1

    @property
    def duration_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    @property
    def counts_toward_schedule(self) -> bool:
        """Only a whole, real run that exercised the target satisfies a schedule."""
        return self.verdict != "inconclusive" and not self.dry_run and not self.selection.partial

    @property
    def label(self) -> str:
        """The run's verdict as every format shows it: ``PASSED``, ``FAILED (partial)``."""
        notes = [note for note, on in (("dry run", self.dry_run),
                                        ("partial", self.selection.partial)) if on]  # fmt: skip
        return self.verdict.upper() + (f" ({', '.join(notes)})" if notes else "")
