"""Fixtures shared by the project's own tests: one reference stack for the whole session; which
tests share a pytest-xdist worker (tests/groups.py)."""

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import pytest
from xdist.remote import Producer

from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import start_stack, stop_stack
from opsproof.stack.outage import component_down as take_down
from opsproof.support.processes import ComponentState, running_processes
from tests.groups import GroupScheduling, check, in_start_order


@pytest.hookimpl(tryfirst=True)  # before xdist's own (firstresult)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> GroupScheduling | None:
    return GroupScheduling(config, log) if config.getvalue("dist") == "loadscope" else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        check(item)
    in_start_order(items)


@pytest.fixture(scope="session")
def reference_stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """State directory of the session's stack (not the user's default one)."""
    return tmp_path_factory.mktemp("stack-state")


@pytest.fixture(scope="session")
def reference_stack(reference_stack_dir: Path, pytestconfig: pytest.Config) -> Iterator[StackState]:
    """A running reference stack, started once per session and stopped at its end."""
    began = time.monotonic()
    state, _ = start_stack(reference_stack_dir)
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else nullcontext():
        elapsed = time.monotonic() - began
        print(f"\nreference stack up in {elapsed:.1f} s: {state.values['api.url']}")
    yield state
    final = StackState.load(reference_stack_dir) or state  # components restarted meanwhile
    stop_stack(reference_stack_dir)
    left = running_processes(list(final.components.values()))
    assert not any(left.values()), f"processes left after stop_stack: {left}"


@pytest.fixture
def component_down(
    reference_stack: StackState, reference_stack_dir: Path
) -> Callable[[str], AbstractContextManager[ComponentState]]:
    """``with component_down("redis"):`` stops it for the block, then starts it again and waits
    until ``/health/deep`` answers 200, so later tests find a healthy stack."""
    return lambda name: take_down(reference_stack_dir, name)
