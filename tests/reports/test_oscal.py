"""OSCAL export, read as an auditor's tool would: every run's oscal/ loads and validates with
compliance-trestle's OSCAL models, findings say what the run proved (and nothing more), the
documents are sealed with the rest, and past runs export without touching their directory."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from trestle.core.duplicates_validator import DuplicatesValidator
from trestle.oscal.assessment_plan import AssessmentPlan
from trestle.oscal.assessment_results import AssessmentResults
from trestle.oscal.catalog import Catalog
from trestle.oscal.profile import Profile
from trestle.oscal.ssp import SystemSecurityPlan

from opsproof.cli import main
from opsproof.evidence.integrity import verify_run
from opsproof.evidence.manifest import read_manifest, sha256_file, write_manifest
from opsproof.evidence.oscal.ids import control_token, objective_id

pytest_plugins = ["pytester"]

WAIVERS = """\
version: 1
waivers:
  - test: "test_lab.py::test_known_issue"
    justification: cipher list is fixed in the next release
    approver: jane@example.com
    risk: medium
    ticket: SEC-1
    expires: 2099-01-01T00:00:00Z
"""
MODELS = {
    "catalog.json": Catalog,
    "profile.json": Profile,
    "system-security-plan.json": SystemSecurityPlan,
    "assessment-plan.json": AssessmentPlan,
    "assessment-results.json": AssessmentResults,
}


def load_oscal(directory: Path) -> dict[str, Any]:
    """Every document through trestle's models (raises on anything invalid), no duplicate UUIDs."""
    models = {}
    for name, model in MODELS.items():
        loaded = model.oscal_read(directory / name)
        assert loaded is not None, f"{name} missing"
        assert DuplicatesValidator().model_is_valid(loaded, True, None), name
        models[name] = loaded
    return models


def _findings(results: AssessmentResults) -> dict[str, Any]:
    """Findings by opsproof control id (the target's title)."""
    return {f.target.title: f for f in results.results[0].findings}


def _text(value: Any) -> str:
    """trestle reads an OSCAL token that may also be one of its enums as either."""
    return value if isinstance(value, str) else str(value.value)


def _state(finding: Any) -> tuple[str, str]:
    status = finding.target.status
    return _text(status.state), _text(status.reason)


def _report(*args: str) -> Result:
    return CliRunner().invoke(main, ["report", *args])


@pytest.mark.parametrize("kind", ["gate", "chaos", "dr"])
def test_every_kind_of_run_ships_oscal_that_trestle_validates(
    lab: Callable[..., Any], kind: str
) -> None:
    run = lab(kind=kind)
    oscal = run.run_dir / "oscal"
    models = load_oscal(oscal)
    results = models["assessment-results.json"]
    assert results.metadata.oscal_version.__root__ == "1.1.3"
    assert results.import_ap.href == "assessment-plan.json"
    assert models["assessment-plan.json"].import_ssp.href == "system-security-plan.json"
    assert models["system-security-plan.json"].import_profile.href == "profile.json"
    (result,) = results.results
    evidence = json.loads((run.run_dir / "evidence.json").read_text())
    reviewed = {
        c.control_id for c in result.reviewed_controls.control_selections[0].include_controls
    }
    assert reviewed == {control_token(c) for c in evidence["controls"]}
    assert len(result.observations) == len(evidence["checks"])
    assert all(_text(o.methods[0]) == "TEST" for o in result.observations)
    # components are the environment's services (the lab declares one: cache)
    components = models["system-security-plan.json"].system_implementation.components
    assert {c.title for c in components} == {"environment lab", "cache"}
    assert not any("pw-planted" in c.description for c in components)
    # the plan's controls and every finding's target resolve in the shipped catalog
    catalog_ids = {
        part.id
        for group in models["catalog.json"].groups
        for control in group.controls
        for part in control.parts
    }
    assert {f.target.target_id for f in result.findings} <= catalog_ids
    assert verify_run(run.run_dir).ok


def test_a_run_of_a_kind_without_controls_still_ships_valid_oscal(
    lab: Callable[..., Any],
) -> None:
    run = lab("-k", "outage", kind="load")  # no control in scope, none named by the check
    models = load_oscal(run.run_dir / "oscal")
    assert models["assessment-results.json"].results[0].findings is None
    requirements = models["system-security-plan.json"].control_implementation
    assert len(requirements.implemented_requirements) > 1  # the whole catalogue, as the profile
    assert verify_run(run.run_dir).ok


def test_a_check_records_its_figures_and_collected_time(lab: Callable[..., Any]) -> None:
    run = lab(kind="gate")
    result = load_oscal(run.run_dir / "oscal")["assessment-results.json"].results[0]
    cache = next(o for o in result.observations if "test_cache_answers" in o.title)
    props = {(p.name, p.value, p.class_) for p in cache.props}
    assert {("latency_p95_ms", "3", "figure"), ("unit", "ms", "figure-unit"),
            ("target", "< 100", "figure-target"), ("verdict", "passed", None)} <= props  # fmt: skip
    assert result.start <= cache.collected <= result.end
    evidence = result.observations[0].relevant_evidence[0].href
    back_matter = load_oscal(run.run_dir / "oscal")["assessment-results.json"].back_matter
    resources = {r.uuid: r for r in back_matter.resources}
    rlink = resources[evidence.removeprefix("#")].rlinks[0]
    assert rlink.href == "../evidence.json"
    assert rlink.hashes[0].value == sha256_file(run.run_dir / "evidence.json")


def test_failed_waived_and_not_evaluated_controls_map_to_the_right_finding_states(
    lab: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    waivers = pytester.makefile(".yaml", waivers=WAIVERS)
    run = lab("--waivers", str(waivers), kind="dr")
    results = load_oscal(run.run_dir / "oscal")["assessment-results.json"]
    findings = _findings(results)
    assert _state(findings["SOC2:CC7.2"]) == ("satisfied", "pass")
    assert _state(findings["SOC2:CC8.1"]) == ("not-satisfied", "fail")  # test_render failed
    waived = findings["SOC2:CC6.7"]  # test_known_issue failed under an active waiver
    assert _state(waived) == ("not-satisfied", "fail")
    (risk,) = results.results[0].risks
    assert waived.related_risks[0].risk_uuid == risk.uuid
    assert risk.status.__root__.__root__ == "deviation-approved"
    assert risk.deadline.year == 2099
    props = {p.name: p.value for p in risk.props}
    assert (props["waiver-approver"], props["waiver-risk"], props["waiver-ticket"]) == (
        "jane@example.com", "medium", "SEC-1",
    )  # fmt: skip
    assert risk.characterizations[0].facets[0].value == "medium"
    # every waiver field in every format, not only in OSCAL
    waiver = json.loads((run.run_dir / "evidence.json").read_text())["waivers"][0]
    assert (waiver["risk"], waiver["approver"], waiver["ticket"]) == (
        "medium", "jane@example.com", "SEC-1",
    )  # fmt: skip
    for name in ("summary.md", "report.html"):
        text = (run.run_dir / name).read_text()
        for field in ("medium", "jane@example.com", "SEC-1", "cipher list is fixed", "2099-01-01"):
            assert field in text, (name, field)
    # in the DR scope, nothing exercised it: never satisfied
    assert _state(findings["NIST800-53:CP-4"]) == ("not-satisfied", "not-evaluated")
    assert "no evidence that it is satisfied" in findings["NIST800-53:CP-4"].description
    evidence = json.loads((run.run_dir / "evidence.json").read_text())
    for control, verdict in evidence["controls"].items():
        satisfied = _state(findings[control])[0] == "satisfied"
        assert satisfied == (verdict == "passed"), control
        assert findings[control].target.target_id == objective_id(control)


def test_an_inconclusive_or_not_applicable_check_satisfies_nothing(
    lab: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_unproven="""
        import pytest
        from opsproof.evidence.conclusion import conclude
        from opsproof.evidence.verdict import Verdict

        @pytest.mark.control("SOC2:A1.2")
        def test_fault_had_no_effect(request):
            conclude(request.node, Verdict.INCONCLUSIVE, "the fault had no observable effect")

        @pytest.mark.control("ISO27001:A.5.29")
        def test_nothing_to_compare(request):
            conclude(request.node, Verdict.NOT_APPLICABLE, "no limit set")
        """
    )
    run = lab("-k", "unproven", kind="chaos")
    results = load_oscal(run.run_dir / "oscal")["assessment-results.json"].results[0]
    findings = {f.target.title: f for f in results.findings}
    for control in ("SOC2:A1.2", "ISO27001:A.5.29"):
        assert _state(findings[control]) == ("not-satisfied", "not-evaluated")
    verdicts = {o.title.split("::")[-1]: {p.name: p.value for p in o.props}["verdict"]
                for o in results.observations}  # fmt: skip
    assert verdicts == {
        "test_fault_had_no_effect": "inconclusive", "test_nothing_to_compare": "not_applicable"
    }  # fmt: skip
    assert {p.name: p.value for p in results.props}["run-verdict"] == "inconclusive"


def test_the_oscal_documents_are_sealed_and_tampering_fails_verify(
    lab: Callable[..., Any],
) -> None:
    run = lab(kind="gate")
    manifest = read_manifest(run.run_dir)
    names = {f"oscal/{name}" for name in MODELS}
    assert names <= set(manifest.files)
    assert _report("verify", str(run.run_dir)).exit_code == 0

    results = run.run_dir / "oscal" / "assessment-results.json"
    document = json.loads(results.read_text())
    finding = document["assessment-results"]["results"][0]["findings"][0]
    finding["target"]["status"] = {"state": "satisfied", "reason": "pass"}
    results.write_text(json.dumps(document))
    verified = _report("verify", str(run.run_dir))
    assert verified.exit_code == 1, verified.output
    assert "modified: oscal/assessment-results.json" in verified.output

    # re-sealed (an unsigned manifest rewritten to match), invalid OSCAL still fails verify
    finding["target"]["status"] = {"state": "waived"}
    results.write_text(json.dumps(document))
    write_manifest(run.run_dir, "gate", "lab", None)
    verified = _report("verify", str(run.run_dir))
    assert verified.exit_code == 5, verified.output
    assert "oscal: assessment-results.json: not valid OSCAL" in verified.output


def test_a_rewritten_evidence_file_no_longer_matches_its_pinned_hash(
    lab: Callable[..., Any],
) -> None:
    run = lab(kind="gate")
    (run.run_dir / "summary.md").write_text("# all green\n")
    write_manifest(run.run_dir, "gate", "lab", None)
    verified = _report("verify", str(run.run_dir))
    assert verified.exit_code == 5, verified.output
    assert "../summary.md does not match its pinned sha256" in verified.output


def test_a_past_run_exports_beside_the_reports_without_touching_the_run(
    lab: Callable[..., Any],
) -> None:
    run = lab(kind="dr")
    sealed = run.run_dir / "oscal"
    before = {p: p.read_bytes() for p in run.run_dir.rglob("*") if p.is_file()}
    exported = _report("export", "--format", "oscal", str(run.run_dir))
    assert exported.exit_code == 0, exported.output
    out = run.run_dir.parent.parent / "oscal" / run.run_dir.name
    models = load_oscal(out)
    assert {p: p.read_bytes() for p in run.run_dir.rglob("*") if p.is_file()} == before
    # the same run gives the same findings, observations and UUIDs; only hrefs differ
    again = models["assessment-results.json"].results[0]
    first = load_oscal(sealed)["assessment-results.json"].results[0]
    assert [(f.uuid, f.target.status) for f in again.findings] == [
        (f.uuid, f.target.status) for f in first.findings
    ]
    assert [o.uuid for o in again.observations] == [o.uuid for o in first.observations]
    hrefs = {r.rlinks[0].href for r in models["assessment-results.json"].back_matter.resources}
    assert f"../../runs/{run.run_dir.name}/evidence.json" in hrefs


def test_a_run_sealed_before_oscal_exports_and_a_tampered_one_is_refused(
    lab: Callable[..., Any], tmp_path: Path
) -> None:
    run = lab(kind="gate")
    shutil.rmtree(run.run_dir / "oscal")  # as a run sealed by an opsproof without OSCAL
    write_manifest(run.run_dir, "gate", "lab", None)
    out = tmp_path / "export"
    exported = _report("export", "--format", "oscal", "-o", str(out), str(run.run_dir))
    assert exported.exit_code == 0, exported.output
    load_oscal(out)

    (run.run_dir / "evidence.json").write_text("{}")
    refused = _report("export", "--format", "oscal", "-o", str(tmp_path / "x"), str(run.run_dir))
    assert refused.exit_code == 1
    assert "does not verify" in refused.output and "modified: evidence.json" in refused.output
    assert not (tmp_path / "x").exists()
