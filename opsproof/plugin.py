"""The opsproof pytest plugin: options, markers, target parametrization, fixtures, evidence.

Loaded through the ``pytest11`` entry point. It stays inert unless a test asks for one of its
fixtures or ``--env`` is given, so it never disturbs other test suites in the same venv.
"""

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsproof.config.loader import LoadedEnvironment, load_environment
from opsproof.errors import ConfigError
from opsproof.evidence.collector import EvidenceCollector
from opsproof.evidence.rundir import create_run_dir
from opsproof.paths import PROJECT_ROOT, find_config
from opsproof.stack.state import StackState, default_state_dir
from opsproof.targets import TARGET_FIXTURES
from opsproof.verify import CONTROLS_PROPERTY, Verifier

DEFAULT_ENVIRONMENT = "reference"
NOT_APPLICABLE = "not applicable"
_CONTROL_ID = re.compile(r"^[A-Za-z0-9]+:[A-Za-z0-9.()\-]+$")


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
        help="where run directories are written (default: reports/runs in the project)",
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


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "control(*ids): compliance controls this check is evidence for, e.g. SOC2:CC7.1"
    )
    env_name = config.option.opsproof_env
    context = OpsContext(
        environment_name=env_name or DEFAULT_ENVIRONMENT,
        config_path=find_config(
            config.option.opsproof_config, Path.cwd(), os.environ.get("OPSPROOF_CONFIG")
        ),
        state_dir=config.option.opsproof_state_dir or default_state_dir(),
    )
    config.stash[CONTEXT_KEY] = context
    wants_evidence = config.option.opsproof_evidence
    if wants_evidence is None:
        wants_evidence = env_name is not None
    if not wants_evidence or hasattr(config, "workerinput"):
        return
    try:
        loaded = context.load()  # validate before anything runs
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    started = datetime.now(UTC)
    reports_dir = config.option.opsproof_reports_dir or PROJECT_ROOT / "reports" / "runs"
    run_dir = create_run_dir(reports_dir, config.option.opsproof_kind, loaded.name, started)
    if not config.option.xmlpath:
        config.option.xmlpath = str(run_dir / "junit.xml")
    config.pluginmanager.register(
        EvidenceCollector(loaded, config.option.opsproof_kind, run_dir, started),
        "opsproof-evidence",
    )


def _context(config: pytest.Config) -> OpsContext:
    return config.stash[CONTEXT_KEY]


def _load_or_exit(config: pytest.Config) -> LoadedEnvironment:
    try:
        return _context(config).load()
    except ConfigError as error:
        pytest.exit(str(error), returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize target fixtures from the environment; none declared → one skipped item."""
    for fixture in metafunc.fixturenames:
        targets_of = TARGET_FIXTURES.get(fixture)
        if targets_of is None:
            continue
        loaded = _load_or_exit(metafunc.config)
        targets = targets_of(loaded.environment)
        if targets:
            metafunc.parametrize(fixture, targets, ids=[t.id for t in targets])
        else:
            reason = f"{NOT_APPLICABLE}: environment {loaded.name!r} declares nothing for {fixture}"
            metafunc.parametrize(
                fixture, [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="none")]
            )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Validate control ids and carry them in user properties (xdist workers report those)."""
    for item in items:
        controls = [c for mark in item.iter_markers("control") for c in mark.args]
        for control in controls:
            if not isinstance(control, str) or not _CONTROL_ID.match(control):
                raise pytest.UsageError(
                    f"{item.nodeid}: control id {control!r} is not of the form FRAMEWORK:ID "
                    "(e.g. SOC2:CC7.1)"
                )
        if controls:
            item.user_properties.append((CONTROLS_PROPERTY, ",".join(controls)))


def pytest_report_header(config: pytest.Config) -> list[str]:
    context = _context(config)
    return [f"opsproof: environment {context.environment_name!r} from {context.config_path}"]


@pytest.fixture(scope="session")
def ops_environment(pytestconfig: pytest.Config) -> LoadedEnvironment:
    """The validated environment under test (with its secrets, for redaction)."""
    return _load_or_exit(pytestconfig)


@pytest.fixture
def verify(request: pytest.FixtureRequest, ops_environment: LoadedEnvironment) -> Verifier:
    """``verify(lambda: probe(...))``: retry until convergence, record figures, fail with reason."""
    return Verifier(request.node, ops_environment.environment.convergence)
