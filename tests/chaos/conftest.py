"""A reference stack of the chaos tests' own (they kill, pause and starve it) and configs."""

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opsproof.config.loader import load_environment
from opsproof.faults.experiment import ChaosRun
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import start_stack, stop_stack
from opsproof.stack.readiness import wait_healthy

SERVICES = """\
      api:
        kind: http
        url: ${stack.api.url}
        ca_file: ${stack.tls.ca_file}
        deep_health: {path: /health/deep, expect_json: {status: healthy}}
        runtime: {process: {component: api}}
      redis: {kind: redis, url: "${stack.redis.url}", timeout: 1s,
              runtime: {process: {component: redis}}}
      postgres: {kind: postgres, dsn: "${stack.postgres.dsn}", timeout: 2s,
                 runtime: {process: {component: postgres}}}
"""

WriteConfig = Callable[..., Path]


@pytest.fixture(scope="module")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """State directory of a stack these tests may break; healthy again after each test."""
    state_dir = tmp_path_factory.mktemp("chaos-stack")
    start_stack(state_dir)
    yield state_dir
    stop_stack(state_dir)


@pytest.fixture
def healthy_stack(stack_dir: Path) -> Iterator[StackState]:
    state = StackState.load(stack_dir)
    assert state is not None
    wait_healthy(state, 30)
    yield state
    assert not Ledger(ledger_path(stack_dir)).open_faults(), "a fault was left open"


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """``write_config(plan_yaml, chaos="allowed", extra_services="", extra_environment="")``: a
    config file with the stack's api, redis and postgres and the given ``chaos_plan`` body
    (environment ``lab``); ``extra_environment`` adds keys beside them (flows:, load:)."""

    def write(
        plan: str, chaos: str = "allowed", extra_services: str = "", extra_environment: str = ""
    ) -> Path:
        body = (
            "version: 1\nenvironments:\n  lab:\n    stack: reference\n"
            f"{textwrap.indent(extra_environment, '    ')}"
            f"    chaos: {chaos}\n    services:\n{SERVICES}"
            f"{textwrap.indent(extra_services, '      ')}"
            f"    chaos_plan:\n{textwrap.indent(textwrap.dedent(plan), '      ')}"
        )
        path = tmp_path / "opsproof.yaml"
        path.write_text(body)
        return path

    return write


@pytest.fixture
def chaos_run_for(stack_dir: Path) -> Callable[[Path], ChaosRun]:
    """``chaos_run_for(config)``: the run of environment ``lab`` against the test stack."""

    def make(config: Path) -> ChaosRun:
        loaded = load_environment(config, "lab", stack=lambda: StackState.load(stack_dir))
        ledger = Ledger(ledger_path(stack_dir))
        return ChaosRun(
            "lab", loaded.environment, stack_dir, ledger, config.parent, secrets=loaded.secrets
        )

    return make
