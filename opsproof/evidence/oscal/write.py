"""Write a run's OSCAL documents: catalog → profile → SSP → plan → results, each pinning the
sha256 of what it imports, the results also the run's evidence files.

In a live run ``seal`` calls this after every other file is final and before the manifest, so
the documents are covered by the manifest and its signature like every other file. An export
of a past run writes elsewhere (the sealed directory is never touched) and takes the evidence
files' hashes from the run's manifest.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic_core import to_json

from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.manifest import MANIFEST_NAME, sha256_file
from opsproof.evidence.model import RunRecord
from opsproof.evidence.oscal.controls import catalog_document, profile_document
from opsproof.evidence.oscal.ids import Json, Uuids
from opsproof.evidence.oscal.metadata import metadata
from opsproof.evidence.oscal.pins import Pinned, resource
from opsproof.evidence.oscal.plan import plan_document
from opsproof.evidence.oscal.results import results_document
from opsproof.evidence.oscal.system import SystemDescription, ssp_document

OSCAL_DIR = "oscal"
CATALOG = "catalog.json"
PROFILE = "profile.json"
SSP = "system-security-plan.json"
PLAN = "assessment-plan.json"
RESULTS = "assessment-results.json"
DOCUMENTS = {
    CATALOG: "catalog",
    PROFILE: "profile",
    SSP: "system-security-plan",
    PLAN: "assessment-plan",
    RESULTS: "assessment-results",
}
"""File name → the document's root key."""


@dataclass(frozen=True)
class OscalSource:
    """What the documents say: the run as evidence.json records it (redacted), the catalogue
    its controls come from, and the system it verified."""

    run: RunRecord
    catalogue: Catalogue
    system: SystemDescription


def write_oscal(
    run_dir: Path,
    source: OscalSource,
    out_dir: Path | None = None,
    hashes: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the documents into ``out_dir`` (default ``run_dir/oscal``); return their paths.

    ``hashes`` (run file → sha256, from a manifest) names the evidence files to pin; without it
    the run directory's top-level files are hashed as they are now. Nothing is redacted here:
    the run is the redacted one evidence.json holds, the system's endpoints carry no
    credentials."""
    out = out_dir or run_dir / OSCAL_DIR
    out.mkdir(parents=True, exist_ok=True)
    run, name = source.run, run_dir.name
    uuids = Uuids(f"run\x1f{name}\x1f{run.host}\x1f{run.started_at.isoformat()}")
    kind_scope = source.catalogue.in_scope(run.kind)
    planned = [*kind_scope, *(c for c in run.controls if c not in kind_scope)]

    def meta(title: str) -> Json:
        return metadata(run, name, title, uuids)

    def pin(file_name: str) -> Pinned:
        return Pinned(f"{OSCAL_DIR}/{file_name}", file_name, sha256_file(out / file_name))

    written: list[Path] = []

    def emit(file_name: str, wrapped: Json) -> Pinned:
        _link_resources(wrapped)
        # pydantic-core's encoder: the standard library's falls back to pure Python with indent
        (out / file_name).write_bytes(to_json(wrapped, indent=2) + b"\n")
        written.append(out / file_name)
        return pin(file_name)

    label = f"opsproof {run.kind} run {name} on {run.environment}"
    catalogue = source.catalogue
    catalog_meta = meta(f"opsproof control catalogue {catalogue.version}")
    catalog = emit(CATALOG, catalog_document(catalogue, uuids, catalog_meta))
    profile_meta = meta(f"Controls a {run.kind} run evidences")
    catalog_link = (catalog.href, resource(catalog, uuids, "plan"))
    profile = emit(PROFILE, profile_document(planned, uuids, profile_meta, catalog_link))
    ssp_meta = meta(f"System {run.environment} as verified by {label}")
    profile_link = (profile.href, resource(profile, uuids, "plan"))
    # OSCAL wants at least one requirement: a kind with no scope names the profile's (all)
    requirements = planned or list(catalogue.controls)
    ssp = emit(SSP, ssp_document(run, source.system, requirements, ssp_meta, profile_link))
    plan = emit(PLAN, plan_document(run, planned, uuids, meta(f"Assessment plan of {label}"), ssp))
    files = [
        Pinned(file_name, _relative(run_dir / file_name, out), digest)
        for file_name, digest in sorted(_evidence_hashes(run_dir, hashes).items())
    ]
    results_meta = meta(f"Assessment results of {label}: {run.label}")
    emit(
        RESULTS,
        results_document(run, name, catalogue, source.system, uuids, results_meta, plan, files),
    )
    return written


def _link_resources(wrapped: Json) -> None:
    """Link the metadata to each back-matter resource (``#uuid``): what the document pins is
    then also what it references, as trestle's links validator expects."""
    (document,) = wrapped.values()
    assert isinstance(document, dict)
    back_matter = document.get("back-matter", {})
    resources = back_matter.get("resources", []) if isinstance(back_matter, dict) else []
    if resources:
        document["metadata"] = {
            **document["metadata"],
            "links": [
                {"href": f"#{r['uuid']}", "rel": "reference", "text": r["title"]} for r in resources
            ],
        }


def _evidence_hashes(run_dir: Path, hashes: Mapping[str, str] | None) -> dict[str, str]:
    """The run's own top-level files (not the manifest, not the OSCAL documents)."""
    if hashes is not None:
        return {name: digest for name, digest in hashes.items() if "/" not in name}
    return {
        path.name: sha256_file(path)
        for path in run_dir.iterdir()
        if path.is_file() and path.name != MANIFEST_NAME
    }


def _relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()
