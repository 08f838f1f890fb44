"""Validate a run's OSCAL documents as an auditor's tool would read them.

Each document is loaded with compliance-trestle's OSCAL 1.1 models (field names, types, token
and UUID patterns, required parts) and passed through trestle's own validators (no duplicate
UUIDs, responsible parties only in declared roles). Then what no single-document schema sees:
every import resolves to a file beside it, every pinned sha256 matches its file, and every id a
finding, observation or plan names exists where it points.

trestle is imported here only: its models take about 1.5 s to import.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opsproof.evidence.manifest import sha256_file
from opsproof.evidence.oscal.write import CATALOG, DOCUMENTS, PLAN, PROFILE, RESULTS, SSP

MAX_MESSAGE = 600
"""pydantic lists every error of a document; the first few name the problem."""


def validate_oscal(directory: Path) -> list[str]:
    """Problems of the documents in ``directory`` (``RUN_DIR/oscal``), each naming the file."""
    problems = []
    documents: dict[str, dict[str, Any]] = {}
    for name, root in DOCUMENTS.items():
        path = directory / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        if problem := _model_problem(path, name):
            problems.append(problem)
            continue
        documents[name] = json.loads(path.read_bytes())[root]
    if not problems:
        problems += _reference_problems(directory, documents)
    return problems


def _model_problem(path: Path, name: str) -> str | None:
    from trestle.common.err import TrestleError
    from trestle.core.base_model import OscalBaseModel
    from trestle.core.duplicates_validator import DuplicatesValidator
    from trestle.core.refs_validator import RefsValidator
    from trestle.oscal.assessment_plan import AssessmentPlan
    from trestle.oscal.assessment_results import AssessmentResults
    from trestle.oscal.catalog import Catalog
    from trestle.oscal.profile import Profile
    from trestle.oscal.ssp import SystemSecurityPlan

    models: dict[str, type[OscalBaseModel]] = {
        CATALOG: Catalog,
        PROFILE: Profile,
        SSP: SystemSecurityPlan,
        PLAN: AssessmentPlan,
        RESULTS: AssessmentResults,
    }
    try:
        model = models[name].oscal_read(path)
    except TrestleError as error:
        return f"{name}: not valid OSCAL: {_short(str(error))}"
    if model is None:
        return f"{name}: unreadable"
    duplicates, refs = DuplicatesValidator(), RefsValidator()
    if not duplicates.model_is_valid(model, True, None):
        return f"{name}: {duplicates.error_msg()}"
    # every document read here is a top-level model, which is what the refs validator wants
    if not refs.model_is_valid(model, True, None):  # type: ignore[type-var]
        return f"{name}: {refs.error_msg()}"
    return None


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_MESSAGE else flat[:MAX_MESSAGE] + "…"


def _reference_problems(directory: Path, documents: dict[str, dict[str, Any]]) -> list[str]:
    problems = []
    imports = {
        RESULTS: documents[RESULTS]["import-ap"]["href"],
        PLAN: documents[PLAN]["import-ssp"]["href"],
        SSP: documents[SSP]["import-profile"]["href"],
        PROFILE: documents[PROFILE]["imports"][0]["href"],
    }
    expected = {RESULTS: PLAN, PLAN: SSP, SSP: PROFILE, PROFILE: CATALOG}
    for name, href in imports.items():
        if (directory / href).resolve() != (directory / expected[name]).resolve():
            problems.append(f"{name}: imports {href!r}, not the {expected[name]} beside it")
    for name, document in documents.items():
        for href, digest in _pinned(document):
            target = directory / href
            if not target.is_file():
                problems.append(f"{name}: pinned file {href} is missing")
            elif sha256_file(target) != digest:
                problems.append(f"{name}: {href} does not match its pinned sha256")
    return problems + _id_problems(documents)


def _pinned(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for resource in document.get("back-matter", {}).get("resources", []):
        for rlink in resource.get("rlinks", []):
            for digest in rlink.get("hashes", []):
                if digest["algorithm"] == "SHA-256":
                    yield rlink["href"], digest["value"]


def _id_problems(documents: dict[str, dict[str, Any]]) -> list[str]:
    """Ids that point nowhere: a control or objective not in the catalog, an observation, risk
    or resource that is not in the results."""
    catalog_ids = set()
    for group in documents[CATALOG].get("groups", []):
        for control in group.get("controls", []):
            catalog_ids.add(control["id"])
            catalog_ids |= {part["id"] for part in control.get("parts", []) if "id" in part}
    problems = []
    for name in (PLAN, RESULTS):
        document = documents[name]
        results = document.get("results", [document])
        for result in results:
            for selection in result["reviewed-controls"]["control-selections"]:
                for chosen in selection.get("include-controls", []):
                    if chosen["control-id"] not in catalog_ids:
                        problems.append(f"{name}: control {chosen['control-id']} not in catalog")
    implementation = documents[SSP]["control-implementation"]["implemented-requirements"]
    problems += [
        f"{SSP}: control {r['control-id']} not in catalog"
        for r in implementation
        if r["control-id"] not in catalog_ids
    ]
    resources = {r["uuid"] for r in documents[RESULTS].get("back-matter", {}).get("resources", [])}
    for result in documents[RESULTS]["results"]:
        observations = {o["uuid"] for o in result.get("observations", [])}
        risks = {r["uuid"] for r in result.get("risks", [])}
        for finding in result.get("findings", []):
            where = f"{RESULTS}: finding {finding['title']!r}"
            if finding["target"]["target-id"] not in catalog_ids:
                problems.append(f"{where}: target {finding['target']['target-id']} not in catalog")
            problems += [
                f"{where}: observation {r['observation-uuid']} not in the result"
                for r in finding.get("related-observations", [])
                if r["observation-uuid"] not in observations
            ]
            problems += [
                f"{where}: risk {r['risk-uuid']} not in the result"
                for r in finding.get("related-risks", [])
                if r["risk-uuid"] not in risks
            ]
        for observation in result.get("observations", []):
            for evidence in observation.get("relevant-evidence", []):
                href = evidence["href"]
                if href.startswith("#") and href[1:] not in resources:
                    problems.append(f"{RESULTS}: observation evidence {href} not in back-matter")
    return problems
