"""Collects test reports into a run record and writes the run's evidence files.

Registered only on the xdist controller (or a plain run), so it sees every worker's reports
once and is the only writer of the run directory.
"""

import shutil
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsproof import __version__
from opsproof.config.loader import LoadedEnvironment
from opsproof.evidence.bundle import seal, write_reports
from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.model import CheckRecord, RunRecord, Selection
from opsproof.evidence.options import EvidenceSettings
from opsproof.evidence.oscal.system import describe_environment
from opsproof.evidence.oscal.write import OscalSource
from opsproof.evidence.properties import ItemEvidence, read_properties
from opsproof.evidence.signing import key_id, public_key_text
from opsproof.evidence.verdict import INCONCLUSIVE_EXIT, CheckVerdict
from opsproof.evidence.verdicts import control_verdicts, run_verdict, waiver_records
from opsproof.evidence.waivers import Waivers
from opsproof.paths import SUITES
from opsproof.support.redact import Redactor

MAX_REASON_LINES = 20
_FINAL: tuple[CheckVerdict, ...] = ("failed", "waived")
"""Verdicts a later phase (a passing teardown) must not overwrite."""


def _reason(report: pytest.TestReport) -> str:
    """The skip reason, or the failure's message without the traceback around it."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message.removeprefix("Failed: ") if crash else report.longreprtext.strip()
    return "\n".join(text.splitlines()[-MAX_REASON_LINES:])


def _verdict(report: pytest.TestReport, evidence: ItemEvidence) -> CheckVerdict | None:
    """The verdict this phase decides, or None when it decides nothing (a passed setup).

    A skip is never a pass: its verdict is the one the item declared (inconclusive, not
    applicable) or else not evaluated."""
    if hasattr(report, "wasxfail"):  # a waiver is a non-strict xfail
        if report.skipped:
            return "waived" if evidence.waiver is not None else "not_evaluated"
        return "passed" if report.when == "call" else None
    if report.failed:
        return "failed"
    if report.skipped:
        return evidence.verdict or "not_evaluated"
    return "passed" if report.when == "call" else None


def _narrower_than_a_suite(arg: str, invocation_dir: Path) -> bool:
    """A node id, or a path inside one of the shipped suites (not the suite itself)."""
    if "::" in arg:
        return True
    path = (invocation_dir / arg).resolve()
    return any(root in path.parents for root in SUITES.values())


class EvidenceCollector:
    """A pytest plugin object: one per run, holding the records until the session finishes."""

    def __init__(
        self,
        loaded: LoadedEnvironment,
        settings: EvidenceSettings,
        catalogue: Catalogue,
        waivers: Waivers,
        run_dir: Path,
        started: datetime,
        redactor: Redactor,
    ) -> None:
        self.run_dir = run_dir
        self._started = started
        self._loaded = loaded
        self._settings = settings
        self._catalogue = catalogue
        self._waivers = waivers
        self._redactor = redactor
        self._checks: dict[str, CheckRecord] = {}
        self._evidence: dict[str, ItemEvidence] = {}
        self._selected: set[str] = set()
        self._deselected = 0
        self.run: RunRecord | None = None
        self._oscal: OscalSource | None = None

    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        self._deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._selected.update(item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        """Under xdist the controller collects nothing itself: the workers say what they did."""
        self._selected.update(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self._checks.get(report.nodeid)
        if record is None:
            record = self._checks[report.nodeid] = CheckRecord(report.nodeid, "passed", 0.0)
        record.duration_s = round(record.duration_s + report.duration, 4)
        record.collected_at = datetime.fromtimestamp(report.stop, UTC)
        evidence = read_properties(report.user_properties)
        verdict = _verdict(report, evidence)
        if report.when == "call" or (verdict and verdict != "passed"):
            self._absorb(record, evidence)
        if verdict is None or (record.verdict in _FINAL and report.when != "call"):
            return
        record.verdict, record.phase = verdict, report.when
        if verdict != "passed":
            record.reason = _reason(report)

    def _absorb(self, record: CheckRecord, evidence: ItemEvidence) -> None:
        self._evidence[record.id] = evidence
        record.controls = evidence.controls
        record.figures = evidence.figures
        record.severity = evidence.severity
        record.owner = evidence.owner
        record.title = evidence.title
        record.waiver = evidence.waiver

    def _selection(self, config: pytest.Config) -> Selection:
        invocation_dir = config.invocation_params.dir
        return Selection(
            keyword=config.option.keyword or "",
            markers=config.option.markexpr or "",
            args=[arg for arg in config.args if _narrower_than_a_suite(arg, invocation_dir)],
            deselected=self._deselected,
            not_run=len(self._selected - self._checks.keys()),
        )

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """Judge the run, set the exit status that says so, and write the reports."""
        checks = list(self._checks.values())
        unevaluated = {c for check in checks if check.verdict != "passed" for c in check.controls}
        settings, now = self._settings, datetime.now(UTC)
        scope = {*self._catalogue.in_scope(settings.kind), *unevaluated}
        verdicts = control_verdicts(checks, scope, self._waivers.waived_controls())
        verdict = run_verdict(checks, int(exitstatus))
        if verdict == "inconclusive" and int(exitstatus) == 0 and not settings.inconclusive_ok:
            session.exitstatus = INCONCLUSIVE_EXIT
        run = self.run = RunRecord(
            kind=settings.kind,
            environment=self._loaded.name,
            config_file=str(self._loaded.source),
            started_at=self._started,
            finished_at=now,
            opsproof_version=__version__,
            exit_status=int(session.exitstatus),
            checks=checks,
            verdict=verdict,
            dry_run=bool(getattr(session.config.option, "opsproof_dry_run", False)),
            selection=self._selection(session.config),
            controls=verdicts,
            waivers=waiver_records(self._waivers, checks, verdicts, now),
            experiments=[e for ev in self._evidence.values() for e in ev.experiments],
            drills=[d for ev in self._evidence.values() for d in ev.drills],
            loads=[r for ev in self._evidence.values() for r in ev.loads],
            change=settings.change,
            operator=settings.operator,
            host=settings.host,
            schedule_interval_s=settings.schedule_interval_s,
            catalogue_version=self._catalogue.version,
        )
        recorded = write_reports(run, self.run_dir, self._catalogue, self._redactor)
        system = describe_environment(self._loaded, self._redactor)
        self._oscal = OscalSource(recorded, self._catalogue, system)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # junit.xml is written by pytest's junitxml plugin at session finish and allure-results
        # by allure-pytest during the run: both carry failure messages, so both are redacted
        # before the manifest records every file's hash.
        if self.run is None:
            # refused before the session started (a chaos plan that may not run): nothing was
            # judged, so nothing enters the history or the chain
            shutil.rmtree(self.run_dir, ignore_errors=True)
            return
        settings = self._settings
        seal(
            self.run_dir,
            settings.kind,
            self._loaded.name,
            self._redactor,
            settings.signing_key,
            self._oscal,
        )

    def pytest_report_header(self) -> list[str]:
        """What a reader needs to reproduce and trust the run: where, waivers, signing, change."""
        settings, waivers, change = self._settings, self._waivers, self._settings.change
        key = settings.signing_key
        signed = f"signed by key {key_id(public_key_text(key.public_key()))}" if key else "unsigned"
        lines = [f"opsproof: evidence to {self.run_dir} ({signed})"]
        if waivers.source is not None:
            active, expired = len(waivers.active()), len(waivers.expired())
            lines.append(f"opsproof: waivers {waivers.source}: {active} active, {expired} expired")
        if change.is_known():
            lines.append(
                f"opsproof: change version {change.version or '-'}, commit {change.commit or '-'}, "
                f"deployer {change.deployer or '-'}, ticket {change.ticket or '-'}"
            )
        return lines

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        verdict = f"{self.run.label}: " if self.run else ""
        terminalreporter.write_sep("-", f"opsproof {verdict}evidence in {self.run_dir}")
        if self.run and self.run.verdict == "inconclusive":
            terminalreporter.line(
                "opsproof: nothing was exercised and passed, so the run proves nothing "
                f"(exit {INCONCLUSIVE_EXIT}; --inconclusive-ok accepts that)"
            )
