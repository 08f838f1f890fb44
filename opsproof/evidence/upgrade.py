"""Older ``evidence.json`` documents read as the current schema, judged by today's rules.

Schema 2 had pytest's outcomes (an inconclusive experiment was a skip, and a run whose items
were all skipped said PASSED). Read through this, such a run is INCONCLUSIVE in the history, as
it would be today; the file itself is never rewritten (it is sealed by its manifest).
"""

from typing import Any

from opsproof.evidence.model import SCHEMA_VERSION, CheckRecord
from opsproof.evidence.verdicts import run_verdict

_V2_VERDICTS = {"passed": "passed", "failed": "failed", "error": "failed", "waived": "waived"}


def upgrade(document: dict[str, Any]) -> dict[str, Any]:
    """The document as the current schema; raises ValueError for a version it cannot read."""
    version = document.get("schema_version")
    if version == SCHEMA_VERSION:
        return document
    if version != 2:
        raise ValueError(f"evidence schema {version!r} is not readable by this opsproof")
    upgraded = {k: v for k, v in document.items() if k not in ("not_applicable", "totals")}
    checks = []
    for check in document.get("checks", []):
        outcome = check.pop("outcome")
        verdict = _V2_VERDICTS.get(outcome, "not_evaluated")
        if outcome == "skipped" and str(check.get("reason", "")).startswith("inconclusive"):
            verdict = "inconclusive"
        phase = "setup" if outcome == "error" else "call"
        checks.append({**check, "verdict": verdict, "phase": phase})
    checks += [
        {"id": line.partition(": ")[0], "verdict": "not_applicable", "duration_s": 0.0,
         "reason": line.partition(": ")[2]}
        for line in document.get("not_applicable", [])
    ]  # fmt: skip
    records = [CheckRecord(**check) for check in checks]
    upgraded.update(
        checks=checks,
        verdict=run_verdict(records, int(document.get("exit_status", 0))),
        schema_version=SCHEMA_VERSION,
    )
    for experiment in upgraded.get("experiments", []):
        reason = str(experiment.get("reason", ""))
        if experiment.get("verdict") == "inconclusive" and "nothing injected" in reason:
            experiment["verdict"] = "not_injected"
    return upgraded
