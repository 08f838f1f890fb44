"""The real deploy gate on the reference stack, read as an auditor's tool reads its OSCAL: the
documents validate with compliance-trestle, the SSP's components are the environment's services
(reached without credentials), and every finding says what the gate proved."""

import pytest

from opsproof.evidence.integrity import verify_run
from opsproof.runtimes.launched import StackState
from tests.reports.test_oscal import load_oscal

pytestmark = pytest.mark.stack


def test_a_gate_run_on_the_reference_stack_ships_valid_oscal(
    gate, reference_stack: StackState
) -> None:
    run = gate()
    assert run.returncode == 0, run.output
    assert run.run_dir is not None
    models = load_oscal(run.run_dir / "oscal")
    components = models["system-security-plan.json"].system_implementation.components
    services = {c.title for c in components if c.type == "service"}
    assert {"api", "redis", "postgres", "host", "prometheus"} <= services
    password = reference_stack.values["postgres.password"]
    assert all(password not in (c.description or "") for c in components)
    result = models["assessment-results.json"].results[0]
    assert len(result.observations) == len(run.evidence["checks"])
    states = {f.target.title: f.target.status.state.value for f in result.findings}
    for control, verdict in run.evidence["controls"].items():
        assert (states[control] == "satisfied") == (verdict == "passed"), control
    assert "satisfied" in states.values()
    assert verify_run(run.run_dir).ok
