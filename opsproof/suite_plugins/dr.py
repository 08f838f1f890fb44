"""The DR suite's machinery: targets from the environment's ``backup`` block, and one shared
session in which every backup and scratch restore is done once. The suite runs serially (``-n``
is refused): the drill stops and restores the very data other items read. An item that judges a
backup judges once (``opsproof.plugin``'s ``verify``). The drill of a deployment
(``backup.scenario``) writes its undo to the fault ledger, with a watchdog, as chaos runs do.
"""

import os
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from opsproof.backup.session import DrSession
from opsproof.backup.store import private_store
from opsproof.backup.targets import BACKUP_FIXTURES
from opsproof.config.loader import LoadedEnvironment
from opsproof.errors import BackupError, ConfigError
from opsproof.evidence.conclusion import conclude, verdict_marks
from opsproof.evidence.verdict import Verdict
from opsproof.plugin import CONTEXT_KEY, NOT_APPLICABLE, RUN_DIR_KEY
from opsproof.suite_plugins.scope import names_suite, provides

if TYPE_CHECKING:
    from opsproof.backup.drill.judge import DrillOutcome
    from opsproof.faults.ledger import Ledger

# The drill of a deployment needs the fault engine (its ledger, watchdog and runtimes); it is
# imported where a drill runs, as the chaos plugin does, not by every pytest process.

PRODUCTION_FLAG = "--i-understand-this-is-production"
WATCHDOG_STOP_TIMEOUT = 5.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("opsproof").addoption(
        PRODUCTION_FLAG,
        dest="opsproof_production_ok",
        action="store_true",
        help="dr: let the DR drill run on an environment marked production: true",
    )


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "numprocesses", None) and names_suite(config, "dr"):
        raise pytest.UsageError(
            "dr: run without -n: the drill stops and wipes the data other items are reading"
        )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the suite's target fixtures; nothing declared → one "not applicable" skip."""
    for fixture, targets_of in BACKUP_FIXTURES.items():
        if not provides(metafunc, fixture, __name__):
            continue
        try:
            loaded = metafunc.config.stash[CONTEXT_KEY].load()
        except ConfigError as error:
            # reported once by the plugin; an exit here would be a traceback per module
            raise pytest.UsageError(str(error)) from None
        targets = targets_of(loaded.environment)
        if targets:
            metafunc.parametrize(fixture, targets, ids=[t.id for t in targets], scope="session")
        else:
            where = f"environment {loaded.name!r} declares nothing for {fixture} (backup:)"
            marks = verdict_marks(Verdict.NOT_APPLICABLE, f"{NOT_APPLICABLE}: {where}")
            metafunc.parametrize(fixture, [pytest.param(None, marks=marks, id="none")])


@pytest.fixture(scope="session")
def dr_session(
    ops_environment: LoadedEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DrSession]:
    """Backups go to ``backup.store`` (default: a temporary directory)."""
    backup = ops_environment.environment.backup
    store = (backup.store if backup else None) or tmp_path_factory.mktemp("backups")
    try:
        private_store(Path(store))
    except BackupError as error:
        refusal = f"opsproof: {error}"
    else:
        refusal = ""
    if refusal:  # outside the except: one line, no chained traceback
        pytest.exit(refusal, returncode=pytest.ExitCode.USAGE_ERROR)
    session = DrSession(Path(store), backup.timeout if backup else 1800.0)
    yield session
    session.close()


@pytest.fixture(scope="session")
def stack_state_dir(pytestconfig: pytest.Config) -> Path:
    """Where the reference stack is recorded (``--stack-state-dir``)."""
    return pytestconfig.stash[CONTEXT_KEY].state_dir


def _say(config: pytest.Config, lines: list[str]) -> None:
    capture = config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        for line in lines:
            print(f"\nopsproof: {line}", end="")
        print()


@pytest.fixture
def drill_ledger(stack_state_dir: Path, pytestconfig: pytest.Config) -> Iterator["Ledger"]:
    """The fault ledger a deployment drill writes its undo to: what an earlier drill (or chaos
    run) that died left open is put back first; a watchdog puts this one's back if it dies."""
    from opsproof.faults.ledger import Ledger, ledger_path
    from opsproof.faults.rollback import revert_leftovers, revert_own
    from opsproof.faults.watchdog import start_watchdog

    ledger = Ledger(ledger_path(stack_state_dir))
    leftovers = revert_leftovers(ledger, "next run", live_owners=False)
    _say(pytestconfig, [f"left by an earlier run: {r.describe()}" for r in leftovers])
    watchdog = start_watchdog(ledger, os.getpid())
    yield ledger
    _say(pytestconfig, [f"reverted as the run ended: {r.describe()}" for r in revert_own(ledger)])
    if not ledger.open_faults():  # otherwise it keeps retrying the failed reverts
        watchdog.terminate()
        watchdog.wait(WATCHDOG_STOP_TIMEOUT)


def deployment_drill(
    request: pytest.FixtureRequest, loaded: LoadedEnvironment, session: DrSession
) -> "DrillOutcome":
    """The drill ``backup.scenario`` describes, refused in one line when it may not run here;
    with ``--dry-run`` its plan is printed and nothing is touched."""
    from opsproof.drill.plan import plan_of
    from opsproof.drill.run import DrillSetting, run_deployment_drill
    from opsproof.errors import SafetyError
    from opsproof.journeys.flow import FlowContext

    config = request.config
    state_dir = config.stash[CONTEXT_KEY].state_dir
    confirmed = bool(config.option.opsproof_production_ok)
    refusal = ""
    if loaded.environment.production and not confirmed:
        refusal = (
            f"environment {loaded.name!r} is marked production: add {PRODUCTION_FLAG} to run "
            "the DR drill against it"
        )
    try:
        plan = plan_of(loaded.name, loaded.environment, state_dir)
    except SafetyError as error:
        refusal = refusal or str(error)
    if refusal:
        pytest.fail(f"drill refused: {refusal}", pytrace=False)
    if getattr(config.option, "opsproof_dry_run", False):
        _say(config, plan.lines())
        conclude(request.node, Verdict.NOT_EVALUATED, "dry run: " + "; ".join(plan.lines()))
    setting = DrillSetting(
        environment=loaded.environment,
        state_dir=state_dir,
        store=session.store,
        ledger=request.getfixturevalue("drill_ledger"),
        timeout=session.timeout,
        flows=FlowContext(
            loaded.source.parent, config.stash.get(RUN_DIR_KEY, None), loaded.secrets
        ),
    )
    return run_deployment_drill(setting, plan)
