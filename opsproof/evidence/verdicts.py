"""Run and control verdicts: from the checks' verdicts and the waivers (docs/evidence.md has
the run verdict's table)."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from opsproof.evidence.model import CheckRecord, WaiverRecord
from opsproof.evidence.verdict import ControlVerdict, RunVerdict
from opsproof.evidence.waivers import Waivers

_BAD = ("failed",)
_PYTEST_FAILED = (1, 2, 3, 4)
"""pytest's exit statuses for failed tests, an interrupt, an internal error, a usage error."""


def run_verdict(checks: Sequence[CheckRecord], exit_status: int) -> RunVerdict:
    """failed when an item failed (or pytest itself did); passed only when some item exercised
    the target and passed; otherwise inconclusive, whatever pytest's own status says."""
    verdicts = {check.verdict for check in checks}
    if "failed" in verdicts or exit_status in _PYTEST_FAILED:
        return "failed"
    return "passed" if "passed" in verdicts else "inconclusive"


def control_verdicts(
    checks: Sequence[CheckRecord], scope: Iterable[str], waived: set[str]
) -> dict[str, ControlVerdict]:
    """Every control in scope or named by a check; a control without a passed check is never
    ``passed``: failed, waived (an active waiver covers its failure or absence), or
    ``not_evaluated``."""
    ids = set(scope) | waived | {c for check in checks for c in check.controls}
    verdicts: dict[str, ControlVerdict] = {}
    for control in sorted(ids):
        outcomes = {check.verdict for check in checks if control in check.controls}
        failed = any(outcome in _BAD for outcome in outcomes)
        if failed and control not in waived:
            verdicts[control] = "failed"
        elif failed or "waived" in outcomes:
            verdicts[control] = "waived"
        elif "passed" in outcomes:
            verdicts[control] = "passed"
        else:
            verdicts[control] = "waived" if control in waived else "not_evaluated"
    return verdicts


def waiver_records(
    waivers: Waivers,
    checks: Sequence[CheckRecord],
    verdicts: dict[str, ControlVerdict],
    now: datetime,
) -> list[WaiverRecord]:
    """Each waiver with what it turned into ``waived`` during this run."""
    records = []
    for waiver in waivers.entries:
        applied = [c.id for c in checks if c.verdict == "waived" and c.waiver == waiver.ticket]
        if waiver.control is not None and verdicts.get(waiver.control) == "waived":
            applied.append(waiver.control)
        records.append(waiver.record(now, applied))
    return records
