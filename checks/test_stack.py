"""The reference stack: every component it runs is running, each its own item
(``test_stack_component_running[worker]``), so a dead worker or exporter fails the gate by name."""

from pathlib import Path

import pytest

from opsproof.errors import ConfigError
from opsproof.evidence.conclusion import verdict_marks
from opsproof.evidence.verdict import Verdict
from opsproof.plugin import CONTEXT_KEY, NOT_APPLICABLE
from opsproof.stack.probe import component_running
from opsproof.stack.status import recorded_status
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.16")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One item per component recorded for the environment's reference stack."""
    if "stack_component" not in metafunc.fixturenames:
        return
    context = metafunc.config.stash[CONTEXT_KEY]
    try:
        loaded = context.load()
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    status = recorded_status(context.state_dir) if loaded.environment.stack else None
    if status is None:
        where = f"environment {loaded.name!r} runs no reference stack (stack:)"
        marks = verdict_marks(Verdict.NOT_APPLICABLE, f"{NOT_APPLICABLE}: {where}")
        metafunc.parametrize("stack_component", [pytest.param(None, marks=marks, id="none")])
        return
    names = [component.name for component in status.components]
    metafunc.parametrize("stack_component", names, ids=names)


@pytest.fixture
def stack_state_dir(pytestconfig: pytest.Config) -> Path:
    return pytestconfig.stash[CONTEXT_KEY].state_dir


def test_stack_component_running(
    stack_component: str, stack_state_dir: Path, verify: Verifier
) -> None:
    verify(lambda: component_running(stack_state_dir, stack_component))
