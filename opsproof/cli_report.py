"""``opsproof report``: verify sealed run directories, browse their history, build Allure HTML.

The evidence modules are imported inside each command, as in cli.py: ``opsproof --help``
stays fast.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from opsproof.paths import REPORTS_DIR

if TYPE_CHECKING:
    from opsproof.evidence.integrity import Verification

ALLURE_TIMEOUT = 300.0

INTACT, TAMPERED, UNVERIFIABLE, BAD_SIGNATURE, BROKEN_CHAIN, BAD_OSCAL = 0, 1, 2, 3, 4, 5
_EXIT_BY_KIND = {
    "signature": BAD_SIGNATURE,
    "files": TAMPERED,
    "chain": BROKEN_CHAIN,
    "oscal": BAD_OSCAL,
}
_SEVERITY = (UNVERIFIABLE, BAD_SIGNATURE, TAMPERED, BROKEN_CHAIN, BAD_OSCAL)
"""When several problems are found, the exit status names the first of these."""
ALLURE_MISSING = 3

reports_dir_option = click.option(
    "--reports-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=REPORTS_DIR,
    show_default=True,
    help="Where run directories are (relative to the current directory).",
)


@click.group()
def report() -> None:
    """Evidence of past runs: verify integrity, show history, build Allure HTML, manage keys."""


def _targets(path: Path) -> list[Path]:
    """A run directory, or every run directory inside a reports directory."""
    from opsproof.evidence.manifest import MANIFEST_NAME
    from opsproof.evidence.rundir import run_dirs

    if (path / MANIFEST_NAME).exists() or not run_dirs(path):
        return [path]
    return run_dirs(path)


def _exit_status(statuses: Sequence[int]) -> int:
    return next((code for code in _SEVERITY if code in statuses), INTACT)


@report.command("verify")
@click.argument(
    "dirs", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, file_okay=False)
)
@click.option(
    "--public-key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="PEM public key the manifests must be signed with (implies --require-signature).",
)
@click.option("--require-signature", is_flag=True, help="Fail on an unsigned manifest.")
def verify(dirs: tuple[Path, ...], public_key: Path | None, require_signature: bool) -> None:
    """Check sealed runs: files, signature, chain and OSCAL documents.

    Compares every file with its sha256 in manifest.json (modified, missing or added files),
    checks the Ed25519 signature, the hash chain to the previous run of the same kind and
    environment, and validates oscal/ with compliance-trestle's OSCAL models (imports resolve,
    pinned hashes match). DIR may be a run directory or a directory of runs.

    \b
    Exit status (the first that applies, in this order):
      2  a manifest is missing or unreadable, or the arguments are wrong
      3  bad signature, signed by another key, or unsigned when a signature is required
      1  a file was modified, removed or added
      4  the chain is broken: the previous run is missing or was changed
      5  an OSCAL document is not valid OSCAL or its references do not resolve
      0  every run is intact
    """
    from opsproof.errors import SigningError, UnverifiableError
    from opsproof.evidence.integrity import verify_run
    from opsproof.evidence.signing import load_public_key

    try:
        key = load_public_key(public_key) if public_key else None
    except SigningError as error:
        raise click.UsageError(str(error)) from None
    statuses = []
    for path in (target for directory in dirs for target in _targets(directory)):
        try:
            result = verify_run(path, key, require_signature)
        except UnverifiableError as error:
            click.echo(f"UNVERIFIABLE {error}")
            statuses.append(UNVERIFIABLE)
            continue
        _print_verification(result)
        statuses += [_EXIT_BY_KIND[finding.kind] for finding in result.findings]
    sys.exit(_exit_status(statuses))


def _print_verification(result: "Verification") -> None:
    signed = f"signed by {result.signed_by}" if result.signed_by else "unsigned"
    if result.ok:
        click.echo(f"OK       {result.run_dir} ({signed})")
        return
    click.echo(f"FAILED   {result.run_dir} ({signed})")
    for finding in result.findings:
        click.echo(f"  {finding.kind}: {finding.message}")


@report.command("history")
@reports_dir_option
@click.option("--html", is_flag=True, help="Also write index.html into the reports directory.")
@click.option(
    "--fail-on-missed", is_flag=True, help="Exit 1 when a scheduled run was missed (for CI)."
)
def history(reports_dir: Path, html: bool, fail_on_missed: bool) -> None:
    """List the runs, and scheduled runs that did not happen.

    A run of a scheduled kind (chaos nightly, DR monthly, or --schedule) that is later than
    1.5 intervals counts as missed. Dry runs, partial runs (-k, -m, node ids) and inconclusive
    runs are listed but never count as the scheduled run.
    """
    from opsproof.evidence.formatting import totals
    from opsproof.evidence.history import missed_runs, read_history
    from opsproof.evidence.html import render_index

    now = datetime.now(UTC)
    runs = read_history(reports_dir)
    missed = missed_runs(runs, now)
    for run in runs:
        counted = "" if run.counts_toward_schedule else "  (not counted toward a schedule)"
        click.echo(
            f"{run.name:<44} {run.label:<24} {run.duration_s:>9.1f} s  "
            f"{totals(run.totals)}{counted}"
        )
    for gap in missed:
        click.echo(
            f"MISSED {gap.count} scheduled {gap.kind} run(s) on {gap.environment} after "
            f"{gap.after} (due {gap.due_at:%Y-%m-%d %H:%M} UTC)"
        )
    if not runs:
        click.echo(f"no runs in {reports_dir}")
    if html:
        index = reports_dir / "index.html"
        index.write_text(render_index(reports_dir, runs, missed, now))
        click.echo(f"wrote {index}")
    sys.exit(1 if fail_on_missed and missed else 0)


@report.command("allure")
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the HTML goes (default: reports/allure/<run> beside reports/runs).",
)
@click.option(
    "--allure",
    "allure_bin",
    default="allure",
    show_default=True,
    help="The Allure 3 command (npm install -g allure).",
)
def allure(run_dir: Path, output: Path | None, allure_bin: str) -> None:
    """Build the Allure HTML report of a run from its allure-results/.

    Allure's history of the same kind and environment is kept in one file beside the reports
    (history-<kind>-<env>.jsonl), so trends build up without copying folders by hand. The run
    directory itself is not touched: its manifest stays valid.

    Exit status: 0 built, 1 Allure failed, 3 the Allure CLI is not installed.
    """
    from opsproof.evidence.rundir import series_of

    results = run_dir / "allure-results"
    if not results.is_dir():
        raise click.UsageError(f"{run_dir}: no allure-results/ (was it written by opsproof?)")
    executable = shutil.which(allure_bin)
    if executable is None:
        click.echo(
            f"opsproof: the Allure CLI ({allure_bin!r}) is not installed. Install Allure 3 with "
            "Node.js: npm install -g allure; then run this again. The raw results are in "
            f"{results}",
            err=True,
        )
        sys.exit(ALLURE_MISSING)
    allure_root = run_dir.resolve().parent.parent / "allure"
    output = output or allure_root / run_dir.name
    history_file = output.parent / f"history-{series_of(run_dir)}.jsonl"
    with tempfile.TemporaryDirectory(prefix="opsproof-allure-") as scratch:
        config = Path(scratch) / "allurerc.json"
        config.write_text(
            json.dumps(
                {
                    "name": f"opsproof {run_dir.name}",
                    "output": str(output.resolve()),
                    "historyPath": str(history_file.resolve()),
                }
            )
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        command = [executable, "generate", str(results.resolve()), "--config", str(config)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=ALLURE_TIMEOUT, cwd=scratch
            )
        except subprocess.TimeoutExpired:
            click.echo(f"opsproof: allure did not finish in {ALLURE_TIMEOUT:.0f} s", err=True)
            sys.exit(1)
    if done.returncode != 0:
        click.echo(f"opsproof: allure failed ({done.returncode}):\n{done.stderr[-2000:]}", err=True)
        sys.exit(1)
    click.echo(f"Allure report: {output / 'index.html'}")


@report.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--format",
    "format_",
    type=click.Choice(["oscal"]),
    required=True,
    help="oscal: NIST OSCAL 1.1.3 assessment results, plan, SSP, profile and catalog (JSON).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the documents go (default: reports/oscal/<run> beside reports/runs).",
)
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The config file the run used (default: the one its evidence.json names): the "
    "services' names and kinds, and your own controls.",
)
def export(run_dir: Path, format_: str, output: Path | None, config: Path | None) -> None:
    """Export a past run for auditors' and GRC tools.

    Runs sealed since opsproof writes OSCAL already hold the documents in oscal/; this writes
    them for older runs, or again, elsewhere: the sealed run directory is never touched. The run
    must verify intact (the documents pin its files by its manifest's hashes).

    Exit status: 0 written, 1 the run does not verify or its evidence is unreadable.
    """
    from opsproof.errors import ExportRefused
    from opsproof.evidence.oscal.export import default_output, export_run

    target = output or default_output(run_dir)
    try:
        written = export_run(run_dir, target, config)
    except ExportRefused as error:
        click.echo(f"opsproof: {error}", err=True)
        sys.exit(1)
    for path in written:
        click.echo(f"wrote {path}")


@report.command("keygen")
@click.argument("keyfile", type=click.Path(path_type=Path, dir_okay=False))
def keygen(keyfile: Path) -> None:
    """Create an Ed25519 key pair for signing manifests.

    Writes KEYFILE (private, mode 0600) and KEYFILE.pub. Sign runs with `--signing-key KEYFILE`
    (or $OPSPROOF_SIGNING_KEY); verify with `opsproof report verify --public-key KEYFILE.pub`.
    """
    from opsproof.evidence.signing import (
        generate_key_pair,
        key_id,
        load_private_key,
        public_key_text,
    )

    try:
        public = generate_key_pair(keyfile)
    except FileExistsError:
        raise click.UsageError(f"{keyfile} exists; choose another name") from None
    fingerprint = key_id(public_key_text(load_private_key(keyfile).public_key()))
    click.echo(f"private key {keyfile}\npublic key  {public}\nkey id      {fingerprint}")


@report.command("controls")
@click.option("--kind", default=None, help="Only the controls in scope for this kind of run.")
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also your own controls, from the file its 'controls:' names "
    "(default: $OPSPROOF_CONFIG, ./opsproof.yaml, or the shipped one).",
)
def controls(kind: str | None, config: Path | None) -> None:
    """List the control ids a check may name.

    Each line: the id for @pytest.mark.control(...), its title, the run kinds it is in scope for.
    """
    import os

    from opsproof.errors import ConfigError
    from opsproof.evidence.custom_controls import load_run_catalogue
    from opsproof.paths import find_config

    path = find_config(config, Path.cwd(), os.environ.get("OPSPROOF_CONFIG"))
    try:
        catalogue = load_run_catalogue(path)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    ids = catalogue.in_scope(kind) if kind else list(catalogue.controls)
    for control in ids:
        scope = [k for k, members in catalogue.scope.items() if control in members]
        click.echo(f"{control:<20} {catalogue.title(control)}  [{', '.join(scope) or '-'}]")


@report.command("schema")
def schema() -> None:
    """Print the JSON Schema of evidence.json."""
    from opsproof.evidence.schema import shipped_schema_text

    click.echo(shipped_schema_text(), nl=False)
