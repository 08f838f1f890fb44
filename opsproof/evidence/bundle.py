"""The files of one run directory: written redacted, then sealed: OSCAL documents (which pin
the other files' hashes), then the manifest (which covers them all)."""

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.history import missed_runs, read_history, summarize
from opsproof.evidence.html import ReportContext, render_html
from opsproof.evidence.manifest import Manifest, write_manifest
from opsproof.evidence.model import RunRecord
from opsproof.evidence.oscal.write import OscalSource, write_oscal
from opsproof.evidence.rundir import series_name
from opsproof.evidence.writers import RUN, redact_file, redact_tree, write_json, write_markdown
from opsproof.support.redact import Redactor

HISTORY_LIMIT = 30
"""Earlier runs shown in a report's history and trends."""
ALLURE_RESULTS = "allure-results"
JUNIT = "junit.xml"


def redact_run(run: RunRecord, redactor: Redactor) -> RunRecord:
    """The same run with every string passed through the redactor."""
    return RUN.validate_python(redactor.data(RUN.dump_python(run, mode="json")))


def write_reports(
    run: RunRecord, run_dir: Path, catalogue: Catalogue, redactor: Redactor
) -> RunRecord:
    """evidence.json, summary.md, report.html and, for DR drills, report.pdf; returns the run
    as they record it (redacted)."""
    run = redact_run(run, redactor)
    history = read_history(run_dir.parent, series_name(run.kind, run.environment), HISTORY_LIMIT)
    history.append(summarize(run_dir.name, run))
    context = ReportContext(run_dir.name, catalogue, history, missed_runs(history, run.finished_at))
    write_json(run, run_dir / "evidence.json", redactor)
    write_markdown(run, run_dir / "summary.md", redactor)
    (run_dir / "report.html").write_text(render_html(run, context))
    if run.drills:
        # fpdf2 costs 0.3 s to import: only DR drills pay it, not every pytest start-up.
        from opsproof.evidence.pdf import write_drill_pdf

        write_drill_pdf(run, run_dir.name, catalogue, run_dir / "report.pdf")
    return run


def seal(
    run_dir: Path,
    kind: str,
    environment: str,
    redactor: Redactor,
    key: Ed25519PrivateKey | None,
    oscal: OscalSource | None = None,
) -> Manifest:
    """Redact what other plugins wrote (junit.xml, allure-results/), write the OSCAL documents
    (they pin every other file's final hash), then the manifest."""
    redact_file(run_dir / JUNIT, redactor)
    redact_tree(run_dir / ALLURE_RESULTS, redactor)
    if oscal is not None:
        write_oscal(run_dir, oscal)
    return write_manifest(run_dir, kind, environment, key)
