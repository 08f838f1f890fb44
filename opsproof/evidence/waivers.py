"""The waiver file: accepted exceptions, each with a justification, approver, ticket and expiry.

An active waiver turns a failure it covers into ``waived``; an expired one is a hard failure of
the run (opsproof adds a failing item for it), so an exception never outlives its approval
silently. Expiries are explicit UTC timestamps: a bare date or local time is rejected.

    version: 1
    waivers:
      - control: SOC2:CC6.6            # or  test: "checks/test_host.py::test_private_ports*"
        justification: legacy port kept open until the migration (SEC-123)
        approver: jane.doe@example.com
        risk: medium                     # low, medium, high, critical, or a sentence
        ticket: SEC-123
        expires: 2026-12-31T23:59:59Z

A waiver is active while the run's start is strictly before its expiry: one that expires at
``23:59:59Z`` still covers a run that starts at ``23:59:58.999999Z``, not one at ``23:59:59Z``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from opsproof.config.problems import Problem, config_error, did_you_mean
from opsproof.config.source import ParsedFile, parse
from opsproof.config.validation import validation_problems
from opsproof.errors import ConfigError
from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.model import WaiverRecord

_UTC_HINT = "write the expiry in UTC, e.g. 2026-12-31T23:59:59Z"
RISK_LEVELS = ("low", "medium", "high", "critical")


class Waiver(BaseModel):
    """One accepted exception: a control, or a test node id (``fnmatch`` pattern)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    control: str | None = None
    test: str | None = Field(default=None, description="a test node id or fnmatch pattern")
    justification: str = Field(min_length=1, description="why the exception is acceptable")
    approver: str = Field(min_length=1, description="who accepted the risk")
    risk: str = Field(
        min_length=1,
        description="the risk accepted: low, medium, high, critical, or a sentence justifying it",
    )
    ticket: str = Field(min_length=1, description="where the exception is tracked")
    expires: datetime = Field(description="when it stops applying, in UTC")

    @field_validator("expires", mode="before")
    @classmethod
    def _utc(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a timestamp; {_UTC_HINT}") from None
        if isinstance(value, datetime):
            offset = value.utcoffset()
            if offset is None or offset.total_seconds() != 0:
                raise ValueError(f"{value.isoformat()} is not in UTC; {_UTC_HINT}")
            return value.astimezone(UTC)
        if isinstance(value, date):
            raise ValueError(f"{value.isoformat()} is a date without a time; {_UTC_HINT}")
        return value

    @field_validator("risk")
    @classmethod
    def _risk(cls, risk: str) -> str:
        risk = " ".join(risk.split())
        # one word that is not a level is a typo ("hihg"), not a justification
        if risk.lower() in RISK_LEVELS:
            return risk.lower()
        if " " not in risk:
            hint = did_you_mean(risk, RISK_LEVELS)
            raise ValueError(
                f"risk {risk!r} is not one of {', '.join(RISK_LEVELS)}{hint} "
                "(or write a sentence that justifies the risk)"
            )
        return risk

    @model_validator(mode="after")
    def _one_subject(self) -> "Waiver":
        if (self.control is None) == (self.test is None):
            raise ValueError("give exactly one of 'control: ID' or 'test: NODE-ID' per waiver")
        return self

    @property
    def subject(self) -> str:
        return self.control or self.test or ""

    def is_active(self, now: datetime) -> bool:
        return now < self.expires

    def record(self, now: datetime, applied: Sequence[str] = ()) -> WaiverRecord:
        return WaiverRecord(
            subject=self.subject,
            applies_to="control" if self.control else "test",
            justification=self.justification,
            approver=self.approver,
            ticket=self.ticket,
            risk=self.risk,
            expires=self.expires,
            status="active" if self.is_active(now) else "expired",
            applied=list(applied),
        )


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    waivers: list[Waiver] = Field(default_factory=list)


@dataclass(frozen=True)
class Waivers:
    """The loaded waivers, judged at one moment (the run's start) on every xdist worker alike."""

    source: Path | None
    entries: tuple[Waiver, ...]
    now: datetime

    def active(self) -> list[Waiver]:
        return [w for w in self.entries if w.is_active(self.now)]

    def expired(self) -> list[Waiver]:
        return [w for w in self.entries if not w.is_active(self.now)]

    def for_check(self, nodeid: str, controls: Sequence[str]) -> Waiver | None:
        """The waiver that covers a check: one naming the test, or all of its controls."""
        active = self.active()
        for waiver in active:
            if waiver.test is not None and fnmatchcase(nodeid, waiver.test):
                return waiver
        by_control = {w.control: w for w in active if w.control is not None}
        if controls and all(c in by_control for c in controls):
            return by_control[controls[0]]
        return None

    def waived_controls(self) -> set[str]:
        return {w.control for w in self.active() if w.control is not None}


def no_waivers(now: datetime) -> Waivers:
    return Waivers(None, (), now)


def load_waivers(path: Path, catalogue: Catalogue, now: datetime) -> Waivers:
    """Read and validate a waiver file; raises ConfigError with file:line:key for each problem."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the waiver file ({error.strerror})") from None
    parsed = parse(text, str(path))
    problems = _unknown_controls(parsed, catalogue)
    try:
        document = WaiverFile.model_validate(parsed.data)
    except ValidationError as error:
        problems += validation_problems(error, WaiverFile, parsed.data, (), parsed)
        raise config_error(str(path), problems) from None
    if problems:
        raise config_error(str(path), problems)
    return Waivers(path, tuple(document.waivers), now)


def _unknown_controls(parsed: ParsedFile, catalogue: Catalogue) -> list[Problem]:
    """Control ids the catalogue does not know, found in the raw data so that they are reported
    together with every other problem of the file."""
    data = parsed.data
    entries = data.get("waivers") if isinstance(data, dict) else None
    problems = []
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        control = entry.get("control") if isinstance(entry, dict) else None
        problem = catalogue.problem(control) if control is not None else None
        if problem:
            key = ("waivers", index, "control")
            problems.append(Problem(parsed.locate(key), key, problem))
    return problems
