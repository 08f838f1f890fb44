"""The chaos suite's machinery: one item per experiment, leftovers first, a watchdog, a ledger.

For every test that asks for ``experiment`` or ``chaos_run`` (chaos/ and a team's own). Before
any experiment, faults left open by an earlier run that died are reverted and reported;
against a reference stack with a dead component every experiment fails (a revert would start
it again and repair the stack unseen); a watchdog process is started for this run; with
``--dry-run`` each experiment's plan is printed and nothing at all is touched.
"""

import os
from collections.abc import Iterator
from contextlib import nullcontext
from typing import TYPE_CHECKING

import pytest

from opsproof.errors import OpsproofError
from opsproof.plugin import CONTEXT_KEY, RUN_DIR_KEY
from opsproof.suite_plugins.scope import names_suite, provides

if TYPE_CHECKING:
    from opsproof.faults.experiment import ChaosRun
    from opsproof.faults.rollback import Reverted

# Every pytest process with opsproof installed loads this plugin, but only a chaos run needs the
# fault engine (the Docker SDK, cgroups, nftables: ~400 modules, ~16 MiB, ~0.4 s), so it is
# imported inside the hooks and fixtures that act, never at module level.

LEFTOVERS_KEY = pytest.StashKey[list["Reverted"]]()
_PLAN_CHECKED = pytest.StashKey[bool]()
WATCHDOG_STOP_TIMEOUT = 5.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("opsproof").addoption(
        "--dry-run",
        dest="opsproof_dry_run",
        action="store_true",
        help="chaos: print each experiment's plan (fault, undo, hypothesis); dr: the drill's "
        "plan; api contract: each operation's examples and budget; touch nothing",
    )


def _refuse(error: OpsproofError) -> None:
    pytest.exit(f"opsproof: {error}", returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse a run of the chaos suite, dry run included, before anything is collected or
    touched (so it leaves no run directory)."""
    if names_suite(session.config, "chaos"):
        _check_plan(session.config)


def _check_plan(config: pytest.Config) -> None:
    """Refuse the run when the environment did not opt in to chaos or a planned fault could
    not be undone here (``opsproof.faults.feasibility``: file, line, key and fix for each).

    A usage error is printed once, one line per problem; ``pytest.exit`` would print it twice
    (on stderr and again as the session's interruption)."""
    if config.stash.get(_PLAN_CHECKED, False):
        return
    from opsproof.faults.feasibility import check_chaos_plan

    context = config.stash[CONTEXT_KEY]
    try:
        check_chaos_plan(context.load(), context.state_dir)
    except OpsproofError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[_PLAN_CHECKED] = True


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One item per experiment of the environment, named after it; a team's own chaos test is
    refused here, while collecting, as the suite is before its session."""
    parametrized = provides(metafunc, "experiment", __name__)
    if not parametrized and not provides(metafunc, "chaos_run", __name__):
        return
    _check_plan(metafunc.config)
    if not parametrized:
        return
    from opsproof.faults.safety import chaos_plan

    loaded = metafunc.config.stash[CONTEXT_KEY].load()
    experiments = chaos_plan(loaded.name, loaded.environment).experiments
    metafunc.parametrize("experiment", experiments, ids=[e.name for e in experiments])


@pytest.fixture(scope="session")
def dry_run(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.option.opsproof_dry_run)


@pytest.fixture(scope="session")
def chaos_run(pytestconfig: pytest.Config, dry_run: bool) -> Iterator["ChaosRun"]:
    """The run's shared state; reverts leftovers and keeps a watchdog while experiments run."""
    from opsproof.faults.experiment import ChaosRun
    from opsproof.faults.ledger import Ledger, ledger_path
    from opsproof.faults.rollback import revert_leftovers, revert_own
    from opsproof.faults.watchdog import start_watchdog
    from opsproof.stack.status import not_whole

    context = pytestconfig.stash[CONTEXT_KEY]
    loaded = context.load()
    ledger = Ledger(ledger_path(context.state_dir))
    run = ChaosRun(
        loaded.name, loaded.environment, context.state_dir, ledger,
        base_dir=loaded.source.parent, run_dir=pytestconfig.stash.get(RUN_DIR_KEY, None),
        secrets=loaded.secrets,
    )  # fmt: skip
    if dry_run:
        pytestconfig.stash[LEFTOVERS_KEY] = []
        yield run
        return
    leftovers = revert_leftovers(ledger, "next run", live_owners=False)
    pytestconfig.stash[LEFTOVERS_KEY] = leftovers
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        for reverted in leftovers:  # said at once, before any experiment runs
            print(f"\nopsproof: fault left by an earlier run: {reverted.describe()}")
    busy = [entry for entry in ledger.open_faults() if entry.owner_alive()]
    if busy:
        _refuse(
            OpsproofError(
                f"another chaos run (pid {busy[0].owner_pid}) has a fault in place: "
                f"{busy[0].fault}; wait for it, or stop it and run `opsproof revert`"
            )
        )
    # After the leftovers' reverts (a component they started again is not a dead one). Each
    # experiment fails with the reason, so the evidence names the dead component too.
    if loaded.environment.stack and (why := not_whole(context.state_dir, "chaos")):
        pytest.fail(why, pytrace=False)
    watchdog = start_watchdog(ledger, os.getpid())
    yield run
    # a fault of this run still open here met an interrupt where no block could revert it
    for reverted in revert_own(ledger):
        print(f"\nopsproof: reverted as the run ended: {reverted.describe()}")
    if not ledger.open_faults():  # otherwise it keeps retrying the failed reverts
        watchdog.terminate()
        watchdog.wait(WATCHDOG_STOP_TIMEOUT)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    leftovers = terminalreporter.config.stash.get(LEFTOVERS_KEY, [])
    if leftovers:
        terminalreporter.section("faults left by an earlier run")
        for reverted in leftovers:
            terminalreporter.line(reverted.describe())
