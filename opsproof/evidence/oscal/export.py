"""OSCAL documents of a past run, written beside the reports, never into the sealed run.

The run must verify intact first: the documents pin its files by the hashes in its manifest,
and an auditor must not be handed a description of files that were changed since.
"""

import json
from pathlib import Path

from pydantic import ValidationError

from opsproof.errors import ConfigError, ExportRefused, UnverifiableError
from opsproof.evidence.catalogue import Catalogue, load_catalogue
from opsproof.evidence.custom_controls import load_run_catalogue
from opsproof.evidence.integrity import verify_run
from opsproof.evidence.manifest import read_manifest
from opsproof.evidence.oscal.system import describe_config
from opsproof.evidence.oscal.write import OscalSource, write_oscal
from opsproof.evidence.upgrade import upgrade
from opsproof.evidence.writers import RUN

EVIDENCE_NAME = "evidence.json"


def default_output(run_dir: Path) -> Path:
    """``reports/oscal/<run>`` beside ``reports/runs``, as ``report allure`` does."""
    return run_dir.resolve().parent.parent / "oscal" / run_dir.name


def export_run(run_dir: Path, output: Path, config: Path | None = None) -> list[Path]:
    """Write the run's documents into ``output``; ``config`` defaults to the file the run used
    (for the services' names and kinds, and the team's own controls)."""
    try:
        verification = verify_run(run_dir)
    except UnverifiableError as error:
        raise ExportRefused(f"{error}; only a sealed run can be exported") from None
    # a chain break is about the runs around it, not about what this one's files say
    problems = [f for f in verification.findings if f.kind != "chain"]
    if problems:
        listed = "; ".join(f"{f.kind}: {f.message}" for f in problems)
        raise ExportRefused(f"{run_dir}: does not verify, so it is not exported ({listed})")
    try:
        manifest = read_manifest(run_dir)
        run = RUN.validate_python(upgrade(json.loads((run_dir / EVIDENCE_NAME).read_bytes())))
    except (OSError, ValueError, ValidationError) as error:
        raise ExportRefused(f"{run_dir}/{EVIDENCE_NAME}: unreadable ({error})") from None
    config_file = config or Path(run.config_file)
    catalogue = _catalogue(config_file, list(run.controls))
    source = OscalSource(run, catalogue, describe_config(config_file, run.environment))
    hashes = {name: entry.sha256 for name, entry in manifest.files.items()}
    return write_oscal(run_dir, source, output, hashes)


def _catalogue(config_file: Path, controls: list[str]) -> Catalogue:
    """Today's catalogue (with the team's own controls when the config still names them), plus
    any control the run named that it no longer has, so every finding resolves."""
    try:
        catalogue = load_run_catalogue(config_file)
    except ConfigError:
        catalogue = load_catalogue()
    missing = [c for c in controls if c not in catalogue.controls]
    if not missing:
        return catalogue
    frameworks = dict(catalogue.frameworks)
    for control in missing:
        framework = catalogue.framework_of(control)
        frameworks.setdefault(framework, f"{framework} (not in today's catalogue)")
    titles = {c: f"{c} (not in today's catalogue)" for c in missing}
    return catalogue.model_copy(
        update={"frameworks": frameworks, "controls": {**catalogue.controls, **titles}}
    )
