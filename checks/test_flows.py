"""User journeys from the config: does the whole path (upload, wait, download) still work?"""

from pathlib import Path

import pytest

from opsproof.config.loader import LoadedEnvironment
from opsproof.journeys.flow import FlowContext, run_flow
from opsproof.targets import FlowTarget
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC8.1", "ISO27001:A.8.32")


def test_flow(
    flow: FlowTarget,
    verify: Verifier,
    ops_environment: LoadedEnvironment,
    ops_run_dir: Path | None,
) -> None:
    context = FlowContext(ops_environment.source.parent, ops_run_dir, ops_environment.secrets)
    verify(lambda: run_flow(flow.flow, flow.services, context))
