"""The DR drill: back up, lose the data, restore, bring the service back and verify it, with
RTO and RPO measured against the targets and every phase's moments in the evidence; on a
deployment, a failed or interrupted drill puts the original data back."""

from pathlib import Path

import pytest

from opsproof.backup.session import DrSession
from opsproof.backup.targets import DrillTarget
from opsproof.config.loader import LoadedEnvironment
from opsproof.evidence.conclusion import conclude
from opsproof.evidence.recorder import EvidenceRecorder
from opsproof.evidence.verdict import Verdict
from opsproof.plugin import NOT_APPLICABLE
from opsproof.stack.drill.run import run_drill
from opsproof.suite_plugins.dr import deployment_drill
from opsproof.verify import Verifier

pytestmark = [
    pytest.mark.control("SOC2:A1.3", "ISO27001:A.5.30", "NIST800-53:CP-4", "NIST800-53:CP-10"),
    pytest.mark.severity("critical"),
]


def test_dr_drill(
    drill_plan: DrillTarget,
    dr_session: DrSession,
    stack_state_dir: Path,
    ops_environment: LoadedEnvironment,
    evidence: EvidenceRecorder,
    verify: Verifier,
    request: pytest.FixtureRequest,
) -> None:
    """Recovery from lost data directories meets the RTO and RPO targets."""
    item = request.node
    if not drill_plan.reference and not drill_plan.scenario:
        reason = (
            f"{NOT_APPLICABLE}: no drill described: declare backup.scenario (the stores lost, "
            "the services stopped) to drill this deployment"
        )
        conclude(item, Verdict.NOT_APPLICABLE, reason)
    if not drill_plan.allowed:
        reason = f"{NOT_APPLICABLE}: backup.drill is forbidden in this environment"
        conclude(item, Verdict.NOT_APPLICABLE, reason)
    if drill_plan.reference:
        outcome = run_drill(
            stack_state_dir, dr_session.store, drill_plan.targets, dr_session.timeout
        )
    else:
        outcome = deployment_drill(request, ops_environment, dr_session)
    evidence.record_drill(outcome.record)
    verify(lambda: outcome.observation)
