"""Chaos experiments, one item per entry in the environment's ``chaos_plan``.

Each runs like the runbook step it replaces:

1. check the steady state with the gate's own probes — if it does not hold, inject nothing
   (the experiment is *not injected*, the item *inconclusive*: never a pass);
2. write the fault and its undo to the ledger, then inject it;
3. watch the service degrade the way the config promises (e.g. ``/health/deep`` answers 503
   naming Redis within 1 s, ``POST /api/jobs`` fails fast);
4. revert — always, on failure, Ctrl-C and SIGTERM too;
5. measure recovery (first success, then N in a row, polled every <= 100 ms) against the target.

A fault that had no observable effect is *inconclusive*, never a pass.
"""

import pytest

from opsproof.config.models import ChaosExperimentSpec
from opsproof.errors import SafetyError
from opsproof.evidence import ExperimentRecord
from opsproof.evidence.conclusion import conclude
from opsproof.evidence.recorder import EvidenceRecorder
from opsproof.evidence.verdict import Verdict
from opsproof.faults.experiment import ChaosRun, Result, plan, run_experiment

pytestmark = pytest.mark.control(
    "SOC2:A1.2",
    "SOC2:CC7.2",
    "ISO27001:A.5.29",
    "ISO27001:A.8.14",
    "ISO27001:A.8.16",
    "NIST800-53:SI-4",
)


def test_experiment(
    experiment: ChaosExperimentSpec,
    chaos_run: ChaosRun,
    dry_run: bool,
    evidence: EvidenceRecorder,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    try:
        if dry_run:
            planned = plan(chaos_run, experiment)
            with capsys.disabled():
                print(f"\n[dry run] {experiment.name}\n  {planned.describe()}")
            reason = f"dry run: {planned.fault.description} not injected"
            conclude(request.node, Verdict.NOT_EVALUATED, reason)
        result = run_experiment(chaos_run, experiment)
    except SafetyError as refused:
        pytest.fail(str(refused), pytrace=False)
    _record(evidence, result)
    if result.verdict == "failed":
        pytest.fail(f"{result.fault}: {result.reason}", pytrace=False)
    if result.verdict in ("inconclusive", "not_injected"):
        said = result.verdict.replace("_", " ")
        conclude(request.node, Verdict.INCONCLUSIVE, f"{said}: {result.reason}")


def _record(evidence: EvidenceRecorder, result: Result) -> None:
    for name, figure in result.figures.items():
        evidence.figure(name, figure.value, figure.unit, figure.target)
    evidence.record_experiment(
        ExperimentRecord(
            name=result.name,
            hypothesis=result.hypothesis,
            fault=result.fault,
            verdict=result.verdict,
            target=result.target,
            started_at=result.started_at,
            injected_at=result.injected_at,
            injected_offset_s=result.injected_offset_s,
            reverted_at=result.reverted_at,
            reverted_offset_s=result.reverted_offset_s,
            held_s=result.held_s,
            time_to_impact_s=result.time_to_impact_s,
            outage_s=result.outage_s,
            outage_offset_s=result.outage_offset_s,
            outages=result.outages,
            outage_allowed=result.outage_allowed,
            restored_by=result.restored_by,
            recovery_s=result.recovery_s,
            recovery_target_s=result.recovery_target_s,
            poll_interval_s=result.poll_interval_s,
            reason=result.reason,
        )
    )
