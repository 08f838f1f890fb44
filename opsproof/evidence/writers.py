"""Writers of a run's text files (evidence.json, summary.md) and in-place redaction of the files
other plugins write (junit.xml, allure-results/). None keeps state."""

import json
import re
from pathlib import Path

from pydantic import TypeAdapter

from opsproof.evidence import formatting
from opsproof.evidence.model import CheckRecord, FigureRecord, RunRecord
from opsproof.support.redact import Redactor

RUN = TypeAdapter(RunRecord)
MAX_SUMMARY_CHARS = 60_000
"""GitHub rejects PR comments over 65,536 characters; the summary stays below."""
_ICONS = {
    "passed": "✅",
    "failed": "❌",
    "inconclusive": "❔",
    "not_applicable": "➖",
    "waived": "🟠",
    "not_evaluated": "⬜",
}


def write_json(run: RunRecord, path: Path, redactor: Redactor) -> None:
    document = redactor.data(RUN.dump_python(run, mode="json"))
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _check_row(check: CheckRecord) -> str:
    figures = "; ".join(formatting.figure(f) for f in check.figures)
    return (
        f"| {_ICONS[check.verdict]} | {_cell(check.id)} | {check.duration_s:.2f}s "
        f"| {_cell(figures)} | {', '.join(check.controls)} |"
    )


def _header(run: RunRecord) -> list[str]:
    lines = [
        f"# opsproof {run.kind} — {run.environment}: {run.label}",
        "",
        f"{formatting.totals(run.totals)} · "
        f"{formatting.moment(run.started_at)} · {formatting.seconds(run.duration_s)} · "
        f"exit {run.exit_status} · config `{run.config_file}` · opsproof {run.opsproof_version}",
    ]
    notes = formatting.run_notes(run)
    if notes:
        lines += ["", *[f"> {_cell(note)}" for note in notes]]
    if run.kind == "gate" or run.change.is_known():
        change = run.change
        lines += [
            "",
            f"Change: version **{change.version or 'not given'}** · "
            f"commit `{change.commit or 'not given'}` · deployer {change.deployer or 'not given'}"
            + (f" · ticket {change.ticket}" if change.ticket else ""),
        ]
    return lines


def _sections(run: RunRecord) -> list[str]:
    lines = []
    failed = [c for c in run.checks if c.verdict == "failed"]
    if failed:
        lines += ["", "## Failures", ""]
        lines += [f"- **{_cell(c.id)}** ({c.severity}): {_cell(c.reason)}" for c in failed]
    inconclusive = [c for c in run.checks if c.verdict == "inconclusive"]
    if inconclusive:
        lines += ["", "## Inconclusive: ran, but proved nothing", ""]
        lines += [f"- **{_cell(c.id)}**: {_cell(c.reason)}" for c in inconclusive]
    lines += _experiment_table(run)
    lines += _load_phase_table(run)
    lines += _baseline_tables(run)
    for drill in run.drills:
        lines += ["", f"## DR drill: {_cell(drill.scenario)}", "",
                  "| system | RTO target | RTO achieved | RPO target | RPO achieved |",
                  "|---|---|---|---|---|"]  # fmt: skip
        lines += [
            f"| {_cell(o.system)} | {formatting.seconds(o.rto_target_s)} "
            f"| {'✅' if o.rto_met() else '❌'} {formatting.seconds(o.rto_achieved_s)} "
            f"| {formatting.seconds(o.rpo_target_s)} "
            f"| {'✅' if o.rpo_met() else '❌'} {formatting.seconds(o.rpo_achieved_s)} |"
            for o in drill.objectives
        ]
    if run.controls:
        lines += ["", "## Controls", "", "| control | verdict |", "|---|---|"]
        lines += [
            f"| {name} | {_ICONS[verdict]} {verdict} |" for name, verdict in run.controls.items()
        ]
    if run.waivers:
        lines += ["", "## Waivers", "",
                  "| waives | status | risk | justification | approver | ticket | expires "
                  "| applied to |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        lines += [
            f"| {w.applies_to} `{_cell(w.subject)}` | {w.status} | {_cell(w.risk or '—')} "
            f"| {_cell(w.justification)} | {_cell(w.approver)} | {_cell(w.ticket)} "
            f"| {formatting.moment(w.expires)} | {_cell(', '.join(w.applied) or 'nothing')} |"
            for w in run.waivers
        ]
    for verdict, title in (
        ("not_applicable", "Not applicable to this environment"),
        ("not_evaluated", "Not evaluated"),
    ):
        items = [c for c in run.checks if c.verdict == verdict]
        if items:
            lines += ["", f"## {title}", ""]
            lines += [f"- {_cell(c.id)}: {_cell(c.reason)}" for c in items]
    return lines


def _experiment_table(run: RunRecord) -> list[str]:
    """One row per experiment: how long the fault was held, the outage users saw (observed
    through the fault window) and the recovery after the revert, which are not the same."""
    if not run.experiments:
        return []

    def seconds_or(value: float | None, absent: str) -> str:
        return absent if value is None else formatting.seconds(value)

    lines = ["", "## Chaos experiments", "",
             "| experiment | fault | held | impact after | outage | recovery after revert "
             "| ended by | verdict |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for e in run.experiments:
        cells = ["—", "—", "not injected", "—", "—"]
        if e.injected:
            ongoing = "not seen to end" if e.outage_offset_s is not None else "—"
            outage = "none" if e.outage_s == 0 else seconds_or(e.outage_s, ongoing)
            if e.outage_allowed is False and e.outage_s != 0:
                outage += " (none allowed)"
            cells = [
                seconds_or(e.held_s, "—"),
                seconds_or(e.time_to_impact_s, "none" if e.observed else "—"),
                outage,
                seconds_or(e.recovery_s, "not recovered"),
                e.restored_by or "—",
            ]
        lines.append(f"| {_cell(e.name)} | {_cell(e.fault)} | {' | '.join(cells)} | {e.verdict} |")
    return lines


LOAD_PHASES = ("before", "during", "recovering", "after")
"""The phases of an experiment's background load, in order (``load.PHASE.*`` figures)."""


def _baseline_tables(run: RunRecord) -> list[str]:
    """Each load run against its baseline: every figure of every name, side by side."""
    lines: list[str] = []
    for load in run.loads:
        if load.baseline is None:
            continue
        lines += ["", f"## Load run against the baseline {_cell(load.baseline.run)}", "",
                  "| name | figure | baseline | this run | change | tolerance | noise bound "
                  "| outcome |",
                  "|---|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
        for f in load.baseline.figures:
            cells = [
                formatting.baseline_figure(f.metric, f.baseline),
                formatting.baseline_figure(f.metric, f.now),
                formatting.baseline_figure(f.metric, f.now - f.baseline, signed=True),
                formatting.baseline_figure(f.metric, f.tolerance),
                formatting.baseline_figure(f.metric, f.noise),
            ]
            outcome = f"**{f.outcome}**" if f.outcome == "regressed" else f.outcome
            lines.append(f"| {_cell(f.name)} | {f.metric} | {' | '.join(cells)} | {outcome} |")
        for name in load.baseline.missing:
            lines.append(f"| {_cell(name)} | requests | sent | none | | | | **regressed** |")
    return lines


def _load_phase_table(run: RunRecord) -> list[str]:
    """What users under an experiment's background load saw, phase by phase, with the limits
    that judged it: the figures ``load.PHASE.requests|error_rate|p95_ms`` of its item."""
    rows = []
    for check in run.checks:
        figures = {f.name: f for f in check.figures if f.name.startswith("load.")}
        for phase in LOAD_PHASES:
            seconds = figures.get(f"load.{phase}.seconds")
            if f"load.{phase}.requests" not in figures or (seconds and seconds.value == 0):
                continue  # a phase shorter than a whole second judged nothing: no row of zeros
            cells = [_phase_cell(figures.get(f"load.{phase}.{name}"), name)
                     for name in ("requests", "error_rate", "p95_ms")]  # fmt: skip
            rows.append(f"| {_cell(check.id)} | {phase} | {' | '.join(cells)} |")
    if not rows:
        return []
    return ["", "## Users under load during chaos", "",
            "| experiment | phase | requests | error rate | p95 |", "|---|---|---|---|---|",
            *rows]  # fmt: skip


def _phase_cell(record: FigureRecord | None, name: str) -> str:
    """A phase's figure as it reads (``9.3%``, ``105 ms``), with its limit when one judged it."""
    if record is None or not isinstance(record.value, int | float):
        return "—"
    value = record.value
    text = {"error_rate": f"{value:.1%}", "p95_ms": f"{value:.0f} ms"}.get(name, f"{value:g}")
    if record.target:
        operator, _, number = record.target.partition(" ")
        limit = record.target
        if name == "error_rate" and re.fullmatch(r"\d+(\.\d+)?", number):
            limit = f"{operator} {float(number):.1%}"
        text += f" (limit {limit}{' ms' if name == 'p95_ms' else ''})"
    return text


def render_markdown(run: RunRecord) -> str:
    """A summary that fits ``$GITHUB_STEP_SUMMARY`` and a PR comment: failures first."""
    head = "\n".join(_header(run) + _sections(run)) + "\n"
    rows = [_check_row(c) for c in sorted(run.checks, key=lambda c: (c.verdict == "passed", c.id))]
    table = ["", "<details><summary>All checks</summary>", "",
             "| | check | time | figures | controls |", "|---|---|---|---|---|"]  # fmt: skip
    budget = MAX_SUMMARY_CHARS - len(head) - 200
    for index, row in enumerate(rows):
        budget -= len(row) + 1
        if budget < 0:
            table.append(f"\n… {len(rows) - index} more checks in evidence.json")
            break
        table.append(row)
    return head + "\n".join([*table, "", "</details>"]) + "\n"


def write_markdown(run: RunRecord, path: Path, redactor: Redactor) -> None:
    path.write_text(redactor.text(render_markdown(run)))


def redact_file(path: Path, redactor: Redactor) -> None:
    """Redact a text file another plugin wrote (pytest's junit.xml) in place."""
    if not path.is_file():
        return
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        return  # binary (an image attachment): no text secret to mask
    redacted = redactor.text(text)
    if redacted != text:
        path.write_text(redacted)


def redact_tree(directory: Path, redactor: Redactor) -> None:
    """Redact every text file under ``directory`` (allure-results with its attachments)."""
    if directory.is_dir():
        for path in directory.rglob("*"):
            redact_file(path, redactor)
