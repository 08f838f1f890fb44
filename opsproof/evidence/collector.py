"""Collects test reports into a run record and writes the run's evidence files.

Registered only on the xdist controller (or a plain run), so it sees every worker's reports
once and is the only writer of the run directory.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsproof import __version__
from opsproof.config.loader import LoadedEnvironment
from opsproof.evidence.model import CheckRecord, FigureRecord, Outcome, RunRecord
from opsproof.evidence.redact import Redactor
from opsproof.evidence.writers import redact_file, write_json, write_markdown
from opsproof.verify import CONTROLS_PROPERTY, FIGURE_PROPERTY

MAX_REASON_LINES = 20
NOT_APPLICABLE_PREFIX = "not applicable"


def _reason(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    text = report.longreprtext.strip()
    return "\n".join(text.splitlines()[-MAX_REASON_LINES:])


class EvidenceCollector:
    """A pytest plugin object: one per run, holding the records until the session finishes."""

    def __init__(
        self, loaded: LoadedEnvironment, kind: str, run_dir: Path, started: datetime
    ) -> None:
        self.run_dir = run_dir
        self._loaded = loaded
        self._kind = kind
        self._started = started
        self._checks: dict[str, CheckRecord] = {}
        self._not_applicable: list[str] = []
        self._redactor = Redactor(loaded.secrets)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome: Outcome | None = None
        if report.failed:
            outcome = "failed" if report.when == "call" else "error"
        elif report.skipped:
            outcome = "skipped"
        elif report.when == "call":
            outcome = "passed"
        record = self._checks.get(report.nodeid)
        if record is None:
            record = self._checks[report.nodeid] = CheckRecord(report.nodeid, "passed", 0.0)
        record.duration_s = round(record.duration_s + report.duration, 4)
        if report.when == "call" or (outcome and outcome != "passed"):
            self._absorb_properties(record, report)
        if outcome is None or (record.outcome in ("failed", "error") and report.when != "call"):
            return
        record.outcome = outcome
        if outcome != "passed":
            record.reason = _reason(report)

    def _absorb_properties(self, record: CheckRecord, report: pytest.TestReport) -> None:
        figures: list[FigureRecord] = []
        for key, value in report.user_properties:
            if key == FIGURE_PROPERTY:
                figures.append(FigureRecord(**json.loads(str(value))))
            elif key == CONTROLS_PROPERTY:
                record.controls = str(value).split(",")
        if figures:
            record.figures = figures

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        checks = []
        for record in self._checks.values():
            if record.outcome == "skipped" and record.reason.startswith(NOT_APPLICABLE_PREFIX):
                self._not_applicable.append(f"{record.id}: {record.reason}")
            else:
                checks.append(record)
        run = RunRecord(
            kind=self._kind,
            environment=self._loaded.name,
            config_file=str(self._loaded.source),
            started_at=self._started.isoformat(timespec="seconds"),
            finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
            opsproof_version=__version__,
            exit_status=int(exitstatus),
            checks=checks,
            not_applicable=self._not_applicable,
        )
        write_json(run, self.run_dir / "evidence.json", self._redactor)
        write_markdown(run, self.run_dir / "summary.md", self._redactor)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # junit.xml is written by pytest's own junitxml plugin at session finish; it carries
        # failure messages, so it gets the same redaction as our own files.
        redact_file(self.run_dir / "junit.xml", self._redactor)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_sep("-", f"opsproof evidence: {self.run_dir}")
