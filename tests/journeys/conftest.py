"""Flows from examples/journeys.yaml run against the session's reference stack, changed per test."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsproof.config.loader import LoadedEnvironment, load_environment
from opsproof.config.models import HttpService
from opsproof.journeys.flow import FlowContext, run_flow
from opsproof.probes.result import Observation
from opsproof.runtimes.launched import StackState
from tests.project import PROJECT_ROOT

JOURNEYS = PROJECT_ROOT / "examples" / "journeys.yaml"

Change = Callable[[list[dict[str, Any]]], None]
"""Changes the flows (as data) before the file is loaded."""


def load_journeys(path: Path, stack: StackState, change: Change | None = None) -> LoadedEnvironment:
    """examples/journeys.yaml, changed by ``change``, written beside its upload files."""
    document = yaml.safe_load(JOURNEYS.read_text())
    if change is not None:
        change(document["environments"]["reference"]["flows"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return load_environment(path, "reference", environ={}, stack=lambda: stack)


@pytest.fixture
def run_journey(
    reference_stack: StackState, tmp_path: Path
) -> Callable[..., tuple[Observation, LoadedEnvironment]]:
    """``run_journey(index, change)`` runs flow ``index`` of the (changed) example file; the
    run directory is ``tmp_path / "run"``."""
    config = JOURNEYS.parent / f".test-journeys-{tmp_path.name}.yaml"

    def run(index: int, change: Change | None = None) -> tuple[Observation, LoadedEnvironment]:
        try:
            loaded = load_journeys(config, reference_stack, change)
        finally:
            config.unlink(missing_ok=True)
        environment = loaded.environment
        services = environment.services_of(HttpService)
        context = FlowContext(JOURNEYS.parent, tmp_path / "run", loaded.secrets)
        return run_flow(environment.flows[index], services, context), loaded

    return run
