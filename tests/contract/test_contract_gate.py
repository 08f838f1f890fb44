"""The API contract probe in the gate, end to end against the real reference service: the shipped
`reference` environment declares it and passes; a dry run lists operations and budgets and
sends nothing; `--api-seed` names the seed it replays; a 20 s budget ends within 22 s."""

import time
from pathlib import Path

import pytest

from opsproof.runtimes.launched import StackState
from tests.contract.conftest import probe_service
from tests.gate.conftest import GateRun, run_gate

pytestmark = pytest.mark.stack


def _gate(stack: StackState, tmp_path: Path, *args: str) -> GateRun:
    state_dir = Path(stack.values["state_file"]).parent
    return run_gate(
        state_dir, tmp_path / "reports", "-k", "test_api_contract or test_api_access", *args
    )


def test_the_reference_gate_probes_the_api_contract_and_passes(
    reference_stack: StackState, tmp_path: Path
) -> None:
    run = _gate(reference_stack, tmp_path, "--api-seed", "4242")
    assert run.returncode == 0, run.output[-3000:]
    verdicts = {c["id"].partition("::")[2]: c["verdict"] for c in run.evidence["checks"]}
    for probed in ("/health", "/api/jobs/{job_id}", "/api/uploads/{upload_id}/result"):
        item = f"test_api_contract[api GET {probed}]"
        assert verdicts[item] == "passed", run.check(item)["reason"]
    # read-only: the operations that may change state are listed, not called
    assert verdicts["test_api_contract[api POST /api/jobs]"] == "not_applicable"
    held = run.check("test_api_contract[api POST /api/jobs]")
    assert "allow_methods: [POST] opts in" in held["reason"]
    # the reference API declares no security: nothing for the access check to ask
    assert verdicts["test_api_access[none]"] == "not_applicable"
    passed = run.check("test_api_contract[api GET /api/jobs/{job_id}]")
    figures = {figure["name"]: figure["value"] for figure in passed["figures"]}
    assert figures["seed"] == "4242"
    assert "404 ×" in figures["statuses"]  # unknown ids: documented, and answered so
    assert 0 < figures["examples"] <= 10
    assert "SOC2:CC8.1" in passed["controls"]
    assert run.evidence["controls"]["SOC2:CC8.1"] == "passed"


def test_a_dry_run_lists_operations_and_budgets(
    reference_stack: StackState, tmp_path: Path
) -> None:
    run = _gate(reference_stack, tmp_path, "--dry-run", "-s")
    assert run.returncode == 6, run.output[-3000:]  # nothing verified: inconclusive
    assert "[dry run] api GET /health: up to 10 valid and invalid inputs; checks" in run.output
    assert "a share of 15s over 6 items, at most 50 requests/s" in run.output
    dry = run.check("test_api_contract[api GET /health]")
    assert dry["verdict"] == "not_evaluated"
    assert dry["reason"] == "dry run: api GET /health not probed"


def test_a_20s_budget_ends_within_22s(reference_stack: StackState, tmp_path: Path) -> None:
    contract = {"examples": 10_000, "budget": "20s", "rate": 1000}
    started = time.monotonic()
    run = probe_service(
        reference_stack.values["api.url"], contract, tmp_path,
        service={"ca_file": reference_stack.values["tls.ca_file"]},
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert 19 < run.items_s < 22, run.items_s
    print(f"\n20 s budget: items {run.items_s:.2f} s, with the document read {elapsed:.2f} s")
    # reading the document (Schemathesis imported for the first time: seconds on a busy machine)
    assert elapsed - run.items_s < 10
    failed = {i: o.observation.reason for i, o in run.outcomes.items() if not o.observation.ok}
    assert failed == {}
    # the operations with parameters explored until their share ran out (those without have
    # one distinct input: Hypothesis is done after it)
    stopped = [i for i, o in run.outcomes.items() if "stopped at its share" in o.observation.reason]
    assert len(stopped) >= 3, stopped
