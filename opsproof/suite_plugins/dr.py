"""The DR suite's machinery: targets from the environment's ``backup`` block, and one shared
session in which every backup and scratch restore is done once. The suite runs serially (``-n``
is refused): the drill stops and restores the very data other items read. An item that judges a
backup judges once (``opsproof.plugin``'s ``verify``).
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from opsproof.backup.session import DrSession
from opsproof.backup.store import private_store
from opsproof.backup.targets import BACKUP_FIXTURES
from opsproof.config.loader import LoadedEnvironment
from opsproof.errors import BackupError, ConfigError
from opsproof.evidence.conclusion import verdict_marks
from opsproof.evidence.verdict import Verdict
from opsproof.plugin import CONTEXT_KEY, NOT_APPLICABLE
from opsproof.suite_plugins.scope import names_suite, provides


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
