"""API contract: every operation of an http service's OpenAPI document, probed with generated
inputs (valid and invalid) and judged against the document — no server error, documented
status, content type and response schema, answers within the response-time budget — and
every operation that declares security asked without credentials (docs/contract.md).

Read-only unless the environment allows more methods; bounded in examples, time and rate.
A failure names its check, its minimal example, a curl line that reproduces it, and the seed.
"""

from typing import TYPE_CHECKING

import pytest

from opsproof.contract.targets import ApiTarget
from opsproof.evidence.conclusion import conclude
from opsproof.evidence.recorder import EvidenceRecorder
from opsproof.evidence.verdict import Verdict
from opsproof.verify import Verifier

if TYPE_CHECKING:
    from opsproof.suite_plugins.contract import ContractSession


@pytest.mark.control("SOC2:CC8.1", "ISO27001:A.8.32")
def test_api_contract(
    api_operation: ApiTarget,
    api_contract: "ContractSession",
    dry_run: bool,
    verify: Verifier,
    evidence: EvidenceRecorder,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    _judge(api_operation, api_contract, dry_run, verify, evidence, capsys, request)


@pytest.mark.control("SOC2:CC6.1", "ISO27001:A.8.3")
def test_api_access(
    api_access: ApiTarget,
    api_contract: "ContractSession",
    dry_run: bool,
    verify: Verifier,
    evidence: EvidenceRecorder,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    _judge(api_access, api_contract, dry_run, verify, evidence, capsys, request)


def _judge(
    target: ApiTarget,
    session: "ContractSession",
    dry_run: bool,
    verify: Verifier,
    evidence: EvidenceRecorder,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    if dry_run:
        with capsys.disabled():
            print(f"\n[dry run] {session.plan(target)}")
        conclude(request.node, Verdict.NOT_EVALUATED, f"dry run: {target.id} not probed")
    outcome = session.run(target)
    if outcome.inconclusive:
        for name, figure in outcome.observation.figures.items():
            evidence.figure(name, figure.value, figure.unit, figure.target)
        conclude(request.node, Verdict.INCONCLUSIVE, outcome.observation.reason)
    verify(lambda: outcome.observation)
