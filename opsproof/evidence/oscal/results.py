"""The assessment results: one result per run, an observation per check, a finding per control,
a risk per waiver.

OSCAL has two finding states, so opsproof's verdicts map as follows (docs/evidence.md):

| control verdict | ``target.status.state`` | ``reason`` | also |
|---|---|---|---|
| passed | satisfied | pass | |
| failed | not-satisfied | fail | |
| waived | not-satisfied | fail (not-evaluated if nothing ran) | a ``deviation-approved`` risk |
| not_evaluated | not-satisfied | not-evaluated | |

Only a passed control is ever satisfied. An inconclusive, not applicable or not evaluated check
is an observation that says so (its ``verdict`` prop and description) and satisfies nothing.
"""

from collections.abc import Sequence
from datetime import datetime

from opsproof import __version__
from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.model import CheckRecord, RunRecord, WaiverRecord
from opsproof.evidence.oscal.ids import (
    NAMESPACE,
    Json,
    Uuids,
    control_token,
    objective_id,
    prop,
    timestamp,
)
from opsproof.evidence.oscal.metadata import party_uuid
from opsproof.evidence.oscal.pins import Pinned, resource, resource_uuid
from opsproof.evidence.oscal.system import SystemDescription, component_uuid
from opsproof.evidence.verdict import ControlVerdict
from opsproof.evidence.waivers import RISK_LEVELS

EVIDENCE_FILES = ("evidence.json", "junit.xml")
"""Where each check's own record is, for its observation's relevant evidence."""
_CHECK_WORDS = {
    "passed": "passed: the target was exercised and met its promise",
    "failed": "failed",
    "inconclusive": "inconclusive (not a pass): it ran but could not tell",
    "not_applicable": "not applicable (not a pass): nothing to judge in this environment",
    "waived": "waived (not a pass): failed or absent, covered by a waiver",
    "not_evaluated": "not evaluated (not a pass): it did not run",
}
_STATES: dict[ControlVerdict, str] = {
    "passed": "satisfied",
    "failed": "not-satisfied",
    "waived": "not-satisfied",
    "not_evaluated": "not-satisfied",
}


def results_document(
    run: RunRecord,
    run_name: str,
    catalogue: Catalogue,
    system: SystemDescription,
    uuids: Uuids,
    metadata: Json,
    plan: Pinned,
    files: Sequence[Pinned],
) -> Json:
    tool = uuids("component", "opsproof")
    evidence: list[Json] = [
        {"href": f"#{resource_uuid(p, uuids)}", "description": p.name}
        for p in files
        if p.name in EVIDENCE_FILES
    ]
    # the same small objects in every observation: built once (serialized as often as used)
    origins: list[Json] = [{"actors": [{"type": "tool", "actor-uuid": tool}]}]
    subjects: list[Json] = [{"subject-uuid": component_uuid(system), "type": "component"}]
    observations = [
        _observation(check, uuids, origins, subjects, evidence, run.finished_at)
        for check in run.checks
    ]
    result: Json = {
        "uuid": uuids("result"),
        "title": f"opsproof {run.kind} run {run_name}: {run.label}",
        "description": _run_description(run),
        "start": timestamp(run.started_at),
        "end": timestamp(run.finished_at),
        "props": _run_props(run),
        "local-definitions": {"components": [_tool(tool)]},
        "reviewed-controls": reviewed_controls(list(run.controls)),
        "observations": observations or None,
        "risks": [_risk(w, run, uuids) for w in run.waivers] or None,
        "findings": [
            _finding(control, verdict, run, catalogue, uuids, tool)
            for control, verdict in run.controls.items()
        ]
        or None,
    }
    document: Json = {
        "uuid": uuids("assessment-results"),
        "metadata": metadata,
        "import-ap": {"href": plan.href},
        "results": [{k: v for k, v in result.items() if v is not None}],
        "back-matter": {
            "resources": [resource(plan, uuids, "plan")] + [resource(p, uuids) for p in files]
        },
    }
    return {"assessment-results": document}


def reviewed_controls(controls: Sequence[str]) -> Json:
    selection: Json = {"description": "The controls in scope of this kind of run, and any other "
                       "control a check of the run names."}  # fmt: skip
    if controls:
        selection["include-controls"] = [{"control-id": control_token(c)} for c in controls]
    return {"control-selections": [selection]}


def _tool(tool: str) -> Json:
    return {
        "uuid": tool,
        "type": "software",
        "title": f"opsproof {__version__}",
        "description": "Runs runbook steps as pytest items against the system and records "
        "what each observed.",
        "status": {"state": "operational"},
    }


def _run_description(run: RunRecord) -> str:
    counts = ", ".join(f"{n} {verdict.replace('_', ' ')}" for verdict, n in run.totals.items() if n)
    return (
        f"A {run.kind} run of environment {run.environment}: {run.label} "
        f"({counts or 'no checks'}). Only a control whose checks passed is satisfied; "
        "inconclusive, not applicable, not evaluated and waived never count as a pass."
    )


def _run_props(run: RunRecord) -> list[Json]:
    props = [
        prop("run-verdict", run.verdict),
        prop("run-label", run.label),
        prop("run-kind", run.kind),
        prop("environment", run.environment),
        prop("exit-status", run.exit_status),
        prop("dry-run", run.dry_run),
        prop("partial", run.selection.partial),
        prop("counts-toward-schedule", run.counts_toward_schedule),
        prop("catalogue-version", run.catalogue_version or "unknown"),
    ]
    change = run.change
    for name in ("version", "commit", "deployer", "ticket"):
        if value := getattr(change, name):
            props.append(prop(f"change-{name}", value))
    return props


def _observation(
    check: CheckRecord,
    uuids: Uuids,
    origins: list[Json],
    subjects: list[Json],
    evidence: Sequence[Json],
    collected: datetime,
) -> Json:
    """``collected``: when the check's verdict was decided; the run's end for older runs that
    did not record it."""
    words = _CHECK_WORDS[check.verdict]
    description = f"{check.title or check.id}: {words}" + (
        f" — {check.reason}" if check.reason else ""
    )
    props = [
        prop("verdict", check.verdict),
        prop("severity", check.severity),
        prop("phase", check.phase),
        prop("duration-s", check.duration_s),
    ]
    props += [prop("control", control) for control in check.controls]
    if check.owner:
        props.append(prop("owner", check.owner))
    if check.waiver:
        props.append(prop("waiver-ticket", check.waiver))
    for index, figure in enumerate(check.figures):
        group = f"figure-{index}"
        props.append(prop(figure.name, figure.value, cls="figure", group=group))
        if figure.unit:
            props.append(prop("unit", figure.unit, cls="figure-unit", group=group))
        if figure.target is not None:
            props.append(prop("target", figure.target, cls="figure-target", group=group))
    observation: Json = {
        "uuid": uuids("observation", check.id),
        "title": check.id,
        "description": description,
        "props": props,
        "methods": ["TEST"],
        "origins": origins,
        "subjects": subjects,
        "relevant-evidence": [
            {"href": e["href"], "description": f"{e['description']}: the record of this check"}
            for e in evidence
        ]
        or None,
        "collected": timestamp(check.collected_at or collected),
    }
    return {k: v for k, v in observation.items() if v is not None}


def _risk(waiver: WaiverRecord, run: RunRecord, uuids: Uuids) -> Json:
    """A waiver is an accepted risk: ``deviation-approved`` while active, ``open`` once expired
    (the run fails for it)."""
    expires = timestamp(waiver.expires)
    risk_text = waiver.risk or "not recorded (a waiver written before opsproof asked for risk)"
    facet = waiver.risk if waiver.risk in RISK_LEVELS else "justified"
    waived_checks = [c.id for c in run.checks if c.id in waiver.applied]
    risk: Json = {
        "uuid": uuids("risk", waiver.ticket, waiver.subject),
        "title": f"Waiver {waiver.ticket}: {waiver.applies_to} {waiver.subject}",
        "description": waiver.justification,
        "statement": f"Risk: {risk_text}. Accepted by {waiver.approver} until {expires}; "
        f"tracked in {waiver.ticket}. Status during the run: {waiver.status}.",
        "props": [
            prop("waiver-ticket", waiver.ticket),
            prop("waiver-approver", waiver.approver),
            prop("waiver-risk", risk_text),
            prop("waiver-applies-to", waiver.applies_to),
            prop("waiver-subject", waiver.subject),
            prop("waiver-status", waiver.status),
            prop("waiver-expires", expires),
        ]
        + [prop("waiver-applied", applied) for applied in waiver.applied],
        "status": "deviation-approved" if waiver.status == "active" else "open",
        "characterizations": [
            {
                "origin": {
                    "actors": [{"type": "party", "actor-uuid": party_uuid(uuids, waiver.approver)}]
                },
                "facets": [{"name": "risk", "system": NAMESPACE, "value": facet}],
            }
        ],
        "deadline": expires,
        "related-observations": [
            {"observation-uuid": uuids("observation", check)} for check in waived_checks
        ]
        or None,
    }
    return {k: v for k, v in risk.items() if v is not None}


def _finding(
    control: str,
    verdict: ControlVerdict,
    run: RunRecord,
    catalogue: Catalogue,
    uuids: Uuids,
    tool: str,
) -> Json:
    checks = [c for c in run.checks if control in c.controls]
    waivers = [
        w
        for w in run.waivers
        if control in w.applied
        or (w.applies_to == "control" and w.subject == control and verdict == "waived")
        or any(c.id in w.applied for c in checks)
    ]
    # a waived check failed (a passing one stays passed): a waived control with one was tested
    exercised = any(c.verdict in ("failed", "waived") for c in checks)
    reason = {"passed": "pass", "failed": "fail", "not_evaluated": "not-evaluated"}.get(
        verdict, "fail" if exercised else "not-evaluated"
    )
    title = catalogue.title(control) or control
    finding: Json = {
        "uuid": uuids("finding", control),
        "title": f"{control}: {title}",
        "description": _finding_description(control, verdict, checks, waivers),
        "props": [prop("verdict", verdict), prop("control", control)],
        "origins": [{"actors": [{"type": "tool", "actor-uuid": tool}]}],
        "target": {
            "type": "objective-id",
            "target-id": objective_id(control),
            "title": control,
            "status": {"state": _STATES[verdict], "reason": reason},
        },
        "related-observations": [{"observation-uuid": uuids("observation", c.id)} for c in checks]
        or None,
        "related-risks": [{"risk-uuid": uuids("risk", w.ticket, w.subject)} for w in waivers]
        or None,
    }
    return {k: v for k, v in finding.items() if v is not None}


def _finding_description(
    control: str,
    verdict: ControlVerdict,
    checks: Sequence[CheckRecord],
    waivers: Sequence[WaiverRecord],
) -> str:
    def listed(verdicts: tuple[str, ...]) -> str:
        return ", ".join(c.id for c in checks if c.verdict in verdicts) or "none"

    if verdict == "passed":
        return (
            f"Satisfied: checks evidencing {control} passed ({listed(('passed',))}), none failed."
        )
    if verdict == "failed":
        return f"Not satisfied: checks evidencing {control} failed ({listed(('failed',))})."
    if verdict == "waived":
        accepted = "; ".join(
            f"waiver {w.ticket} approved by {w.approver} until {timestamp(w.expires)}, "
            f"risk: {w.risk or 'not recorded'}"
            for w in waivers
        )
        return (
            f"Not satisfied, risk accepted: {control} failed or had no evidence "
            f"(waived checks: {listed(('waived',))}); {accepted or 'an active waiver'}."
        )
    others = listed(("inconclusive", "not_applicable", "not_evaluated"))
    return (
        f"Not evaluated: no check in this run exercised {control} and passed (checks naming "
        f"it that proved nothing: {others}). This is no evidence that it is satisfied."
    )
