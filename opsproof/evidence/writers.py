"""Writers of a run's evidence files. Each takes the run and a redactor; none keeps state."""

import json
from dataclasses import asdict
from pathlib import Path

from opsproof.evidence.model import CheckRecord, RunRecord
from opsproof.evidence.redact import Redactor

_ICONS = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️"}


def write_json(run: RunRecord, path: Path, redactor: Redactor) -> None:
    document = redactor.data({**asdict(run), "totals": run.totals(), "controls": run.controls()})
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")


def _figures(check: CheckRecord) -> str:
    parts = []
    for figure in check.figures:
        text = f"{figure.name}={figure.value}{figure.unit and ' ' + figure.unit}"
        parts.append(text + (f" (target {figure.target})" if figure.target else ""))
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(run: RunRecord) -> str:
    """A summary that fits ``$GITHUB_STEP_SUMMARY`` and a PR comment: failures first."""
    totals = run.totals()
    verdict = "PASSED" if run.exit_status == 0 else "FAILED"
    lines = [
        f"# opsproof {run.kind} — {run.environment}: {verdict}",
        "",
        f"{totals['passed']} passed, {totals['failed']} failed, {totals['error']} errors, "
        f"{totals['skipped']} skipped · {run.started_at} → {run.finished_at} · "
        f"config `{run.config_file}` · opsproof {run.opsproof_version}",
        "",
    ]
    failed = [c for c in run.checks if c.outcome in ("failed", "error")]
    if failed:
        lines += ["## Failures", ""]
        lines += [f"- **{_cell(c.id)}**: {_cell(c.reason)}" for c in failed]
        lines.append("")
    lines += ["## Checks", "", "| | check | time | figures | controls |", "|---|---|---|---|---|"]
    for check in sorted(run.checks, key=lambda c: (c.outcome == "passed", c.id)):
        lines.append(
            f"| {_ICONS[check.outcome]} | {_cell(check.id)} | {check.duration_s:.2f}s "
            f"| {_cell(_figures(check))} | {', '.join(check.controls)} |"
        )
    controls = run.controls()
    if controls:
        lines += ["", "## Controls", "", "| control | verdict |", "|---|---|"]
        lines += [f"| {name} | {verdict} |" for name, verdict in controls.items()]
    if run.not_applicable:
        lines += ["", "## Not applicable to this environment", ""]
        lines += [f"- {_cell(item)}" for item in run.not_applicable]
    return "\n".join(lines) + "\n"


def write_markdown(run: RunRecord, path: Path, redactor: Redactor) -> None:
    path.write_text(redactor.text(render_markdown(run)))


def redact_file(path: Path, redactor: Redactor) -> None:
    """Redact a file another plugin wrote (pytest's junit.xml) in place."""
    if path.exists():
        path.write_text(redactor.text(path.read_text()))
