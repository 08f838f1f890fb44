"""The opsproof pytest plugin: options, markers, target parametrization, fixtures, evidence.

Loaded through the ``pytest11`` entry point. It stays inert unless a test asks for one of its
fixtures or ``--env`` is given, so it never disturbs other test suites in the same venv.
"""

import os
from collections.abc import Generator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from opsproof.backup.targets import BACKUP_FIXTURES
from opsproof.config.loader import LoadedEnvironment, load_environment
from opsproof.config.models import Convergence
from opsproof.contract.targets import CONTRACT_FIXTURES
from opsproof.errors import ConfigError, OpsproofError
from opsproof.evidence.bundle import ALLURE_RESULTS, JUNIT
from opsproof.evidence.catalogue import Catalogue, load_catalogue
from opsproof.evidence.collector import EvidenceCollector
from opsproof.evidence.conclusion import NOT_APPLICABLE as NOT_APPLICABLE
from opsproof.evidence.conclusion import mark_verdict, verdict_marks
from opsproof.evidence.custom_controls import load_run_catalogue
from opsproof.evidence.marking import MARKERS, expired_waiver_items, mark_item, mark_problems
from opsproof.evidence.options import add_evidence_options, evidence_settings, waivers_path
from opsproof.evidence.recorder import EvidenceRecorder
from opsproof.evidence.rundir import create_run_dir
from opsproof.evidence.verdict import Verdict
from opsproof.evidence.waivers import Waivers, load_waivers, no_waivers
from opsproof.paths import REPORTS_DIR, SUITES, find_config
from opsproof.runtimes.launched import StackState, default_state_dir
from opsproof.support.redact import Redactor, environment_secrets
from opsproof.targets import TARGET_FIXTURES
from opsproof.verify import Verifier

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController

pytest_plugins = [
    "opsproof.suite_plugins.chaos",
    "opsproof.suite_plugins.contract",
    "opsproof.suite_plugins.dr",
    "opsproof.suite_plugins.load",
]
"""The suites' machinery: their options and fixtures exist wherever opsproof is installed."""

DEFAULT_ENVIRONMENT = "reference"
_STARTED = "opsproof_started"
_ALLURE_DIR = "opsproof_allure_dir"
_RUN_DIR = "opsproof_run_dir"


@dataclass
class OpsContext:
    """Per-session state, kept in ``config.stash``: which environment, loaded once on demand."""

    environment_name: str
    config_path: Path
    state_dir: Path
    _loaded: LoadedEnvironment | None = None

    def load(self) -> LoadedEnvironment:
        if self._loaded is None:
            self._loaded = load_environment(
                self.config_path,
                self.environment_name,
                stack=lambda: StackState.load(self.state_dir),
            )
        return self._loaded


CONTEXT_KEY = pytest.StashKey[OpsContext]()
RUN_DIR_KEY = pytest.StashKey[Path]()
_REFUSAL = pytest.StashKey[pytest.UsageError]()


@dataclass(frozen=True)
class EvidenceMarks:
    """What collection needs in every process: the control catalogue and the waivers."""

    catalogue: Catalogue
    waivers: Waivers
    active: bool
    """An opsproof run (``--env`` or ``--evidence``): items get evidence properties and labels."""


MARKS_KEY = pytest.StashKey[EvidenceMarks]()
JUDGED_ONCE = frozenset({"dr_session", *BACKUP_FIXTURES, *CONTRACT_FIXTURES})
"""Fixtures of the items that judge a backup or explore an API (``verify`` does not retry
them)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("opsproof", "opsproof: operational verification")
    group.addoption(
        "--env",
        dest="opsproof_env",
        default=None,
        help=f"environment from the config file to verify (default: {DEFAULT_ENVIRONMENT}); "
        "giving it also writes evidence",
    )
    group.addoption(
        "--config",
        dest="opsproof_config",
        type=Path,
        default=None,
        help="config file (default: $OPSPROOF_CONFIG, ./opsproof.yaml, or the shipped one)",
    )
    group.addoption(
        "--stack-state-dir",
        dest="opsproof_state_dir",
        type=Path,
        default=None,
        help="state directory of the reference stack (default: $OPSPROOF_STATE_DIR or "
        "~/.local/state/opsproof)",
    )
    group.addoption(
        "--reports-dir",
        dest="opsproof_reports_dir",
        type=Path,
        default=None,
        help="where run directories are written (default: reports/runs in the current directory)",
    )
    group.addoption(
        "--run-kind",
        dest="opsproof_kind",
        default="gate",
        help="kind of run named in the evidence (gate, chaos, dr, load)",
    )
    group.addoption(
        "--evidence",
        dest="opsproof_evidence",
        action="store_true",
        default=None,
        help="write evidence even without --env",
    )
    group.addoption(
        "--no-evidence",
        dest="opsproof_evidence",
        action="store_false",
        help="do not write evidence",
    )
    add_evidence_options(group)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    env_name = config.option.opsproof_env
    context = OpsContext(
        environment_name=env_name or DEFAULT_ENVIRONMENT,
        config_path=find_config(
            config.option.opsproof_config, Path.cwd(), os.environ.get("OPSPROOF_CONFIG")
        ),
        state_dir=config.option.opsproof_state_dir or default_state_dir(),
    )
    config.stash[CONTEXT_KEY] = context
    workerinput = getattr(config, "workerinput", None)
    # xdist workers judge waivers at the controller's start time, so all collect the same items
    started = datetime.fromisoformat(workerinput[_STARTED]) if workerinput else datetime.now(UTC)
    if workerinput is None and _validates_up_front(config):
        _load_or_refuse(config)  # a config error ends the session here, before collection
    active = env_name is not None or bool(config.option.opsproof_evidence)
    waivers_file = waivers_path(config)
    try:
        catalogue = _catalogue(context.config_path, active)
        waivers = load_waivers(waivers_file, catalogue, started) if waivers_file else None
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[MARKS_KEY] = EvidenceMarks(catalogue, waivers or no_waivers(started), active)
    if workerinput is not None:
        if getattr(config.option, "allure_report_dir", None) is None and workerinput[_ALLURE_DIR]:
            config.option.allure_report_dir = workerinput[_ALLURE_DIR]
        if workerinput.get(_RUN_DIR):
            config.stash[RUN_DIR_KEY] = Path(workerinput[_RUN_DIR])
        return
    wants_evidence = config.option.opsproof_evidence
    if wants_evidence is None:
        wants_evidence = env_name is not None
    # a --collect-only run verifies nothing: it must not enter the history or the chain
    if wants_evidence and not config.option.collectonly:
        _start_evidence(config, context, config.stash[MARKS_KEY], started)


def _validates_up_front(config: pytest.Config) -> bool:
    """An opsproof run (``--env``) or opsproof's own suites on the command line: collecting them
    needs the environment, so its errors are reported before collection starts — also under
    xdist, whose workers would meet them where nobody sees them."""
    if any(getattr(config.option, name, False) for name in ("help", "version", "markers")):
        return False
    if config.option.opsproof_env is not None:
        return True
    here = config.invocation_params.dir
    paths = [(here / str(arg).partition("::")[0]).resolve() for arg in config.args]
    return any(
        path == suite or suite in path.parents for path in paths for suite in SUITES.values()
    )


def _catalogue(config_path: Path, active: bool) -> Catalogue:
    """The shipped catalogue and the team's own controls (``controls:`` in the config file).

    Outside an opsproof run the config file may belong to nobody here: its problems then leave
    the shipped catalogue, and a custom id fails collection as unknown."""
    try:
        return load_run_catalogue(config_path)
    except ConfigError:
        if active:
            raise
        return load_catalogue()


def _start_evidence(
    config: pytest.Config, context: OpsContext, marks: EvidenceMarks, started: datetime
) -> None:
    """Validate everything the evidence needs, then create the run directory and the collector."""
    try:
        loaded = context.load()
        settings = evidence_settings(config, os.environ)
    except OpsproofError as error:
        raise pytest.UsageError(str(error)) from None
    reports_dir = config.option.opsproof_reports_dir or config.invocation_params.dir / REPORTS_DIR
    run_dir = create_run_dir(reports_dir, settings.kind, loaded.name, started)
    config.stash[RUN_DIR_KEY] = run_dir
    if not config.option.xmlpath:
        config.option.xmlpath = str(run_dir / JUNIT)
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(run_dir / ALLURE_RESULTS)
    redactor = Redactor(loaded.secrets | environment_secrets(os.environ))
    collector = EvidenceCollector(
        loaded, settings, marks.catalogue, marks.waivers, run_dir, started, redactor
    )
    config.pluginmanager.register(collector, "opsproof-evidence")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: "WorkerController") -> None:
    """Hand xdist workers the run's start (for waivers) and where Allure results go."""
    marks = node.config.stash[MARKS_KEY]
    node.workerinput[_STARTED] = marks.waivers.now.isoformat()
    node.workerinput[_ALLURE_DIR] = getattr(node.config.option, "allure_report_dir", None)
    run_dir = node.config.stash.get(RUN_DIR_KEY, None)
    node.workerinput[_RUN_DIR] = None if run_dir is None else str(run_dir)


def _context(config: pytest.Config) -> OpsContext:
    return config.stash[CONTEXT_KEY]


def _load_or_exit(config: pytest.Config) -> LoadedEnvironment:
    """For fixtures: a config error ends the session with one line (raised outside the
    ``except``, so no chained traceback)."""
    try:
        return _context(config).load()
    except ConfigError as error:
        message = str(error)
    pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)


def _load_or_refuse(config: pytest.Config) -> LoadedEnvironment:
    """For ``pytest_configure`` and collection hooks: a config error is a usage error (exit 4),
    reported once (see ``pytest_pycollect_makeitem``)."""
    try:
        return _context(config).load()
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize target fixtures from the environment; none declared → one skipped item."""
    for fixture in metafunc.fixturenames:
        targets_of = TARGET_FIXTURES.get(fixture)
        if targets_of is None:
            continue
        loaded = _load_or_refuse(metafunc.config)
        targets = targets_of(loaded.environment)
        if targets:
            metafunc.parametrize(fixture, targets, ids=[t.id for t in targets])
        else:
            reason = f"{NOT_APPLICABLE}: environment {loaded.name!r} declares nothing for {fixture}"
            marks = verdict_marks(Verdict.NOT_APPLICABLE, reason)
            metafunc.parametrize(fixture, [pytest.param(None, marks=marks, id="none")])


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, object, object]:
    """Remember a usage error raised while parametrizing (a config error, a suite's refusal):
    pytest would report it as a collection error of every module, each with a traceback."""
    try:
        return (yield)
    except pytest.UsageError as refusal:
        collector.config.stash[_REFUSAL] = refusal
        raise


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A usage error met while collecting ends the session, printed once by pytest; an unknown
    control id (or a bad severity or owner) is a collection error naming it."""
    report = yield
    if (refusal := collector.config.stash.get(_REFUSAL, None)) is not None:
        raise refusal
    marks = collector.config.stash[MARKS_KEY]
    if report.passed:
        problems = [
            problem
            for item in report.result
            if isinstance(item, pytest.Item)
            for problem in mark_problems(item, marks.catalogue, owner_and_severity=marks.active)
        ]
        if problems:
            report.outcome = "failed"
            report.longrepr = "\n".join(problems)
            report.result = []
    return report


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, items: list[pytest.Item]) -> None:
    """Carry evidence marks in user properties (xdist workers report those), apply waivers,
    and add a failing item per expired waiver; after -k/-m selection, so none escapes it."""
    for item in items:
        mark_verdict(item)
    marks = session.config.stash[MARKS_KEY]
    if not marks.active:
        return
    for item in items:
        mark_item(item, marks.waivers)
    items.extend(expired_waiver_items(session, marks.waivers))


def pytest_report_header(config: pytest.Config) -> list[str]:
    context = _context(config)
    return [f"opsproof: environment {context.environment_name!r} from {context.config_path}"]


@pytest.fixture(scope="session")
def ops_environment(pytestconfig: pytest.Config) -> LoadedEnvironment:
    """The validated environment under test (with its secrets, for redaction)."""
    return _load_or_exit(pytestconfig)


@pytest.fixture(scope="session")
def ops_run_dir(pytestconfig: pytest.Config) -> Path | None:
    """The run's directory, where a check may leave files the evidence keeps (a flow's saved
    downloads); None when the session writes no evidence."""
    return pytestconfig.stash.get(RUN_DIR_KEY, None)


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> EvidenceRecorder:
    """Records chaos experiments, DR drills and figures into the run's evidence and reports."""
    return EvidenceRecorder(request.node)


@pytest.fixture
def verify(request: pytest.FixtureRequest, ops_environment: LoadedEnvironment) -> Verifier:
    """``verify(lambda: probe(...))``: retry until convergence, record figures, fail with reason.

    An item that judges a backup judges once: a comparison with a backup is a fact, retrying
    until a convergence deadline (as the gate does after a deploy) cannot change it. So does an
    API contract item: its exploration is bounded by a budget a retry would spend again."""
    if JUDGED_ONCE & set(request.fixturenames):
        return Verifier(request.node, Convergence())
    return Verifier(request.node, ops_environment.environment.convergence)
