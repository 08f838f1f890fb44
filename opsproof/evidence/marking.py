"""Collection-time evidence: validate control, severity and owner marks; attach them to items
as user properties and Allure labels; apply waivers; add a failing item per expired waiver.

Runs in every process that collects (each xdist worker), so everything it decides travels
with the item's reports.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from opsproof.evidence.catalogue import Catalogue
from opsproof.evidence.model import SEVERITIES
from opsproof.evidence.properties import (
    CONTROLS_PROPERTY,
    OWNER_PROPERTY,
    SEVERITY_PROPERTY,
    TITLE_PROPERTY,
    WAIVER_PROPERTY,
)
from opsproof.evidence.waivers import Waiver, Waivers

ALLURE_SEVERITY = {"critical": "blocker", "high": "critical", "medium": "normal", "low": "minor"}
MARKERS = (
    "control(*ids): compliance controls this check is evidence for, e.g. SOC2:CC7.2 "
    "(ids from opsproof's catalogue: opsproof report controls)",
    "severity(level): impact when this check fails: critical, high, medium (default) or low",
    "owner(name): who fixes this check when it fails (a team or person)",
    "opsproof_verdict(verdict): the item's verdict is known at collection (not_applicable)",
)


def controls_of(item: pytest.Item) -> list[object]:
    return [control for mark in item.iter_markers("control") for control in mark.args]


def _arguments(item: pytest.Item, name: str) -> tuple[object, ...] | None:
    """The arguments of the closest ``name`` mark, or None when there is none."""
    mark = item.get_closest_marker(name)
    return None if mark is None else mark.args


def _shown(arguments: tuple[object, ...]) -> str:
    return repr(arguments[0]) if len(arguments) == 1 else repr(arguments)


def mark_problems(
    item: pytest.Item, catalogue: Catalogue, *, owner_and_severity: bool = True
) -> list[str]:
    """Every mistake in an item's evidence marks, each naming the item and the fix.

    ``severity`` and ``owner`` are common mark names: outside an opsproof run they may belong
    to another plugin, so they are checked only when ``owner_and_severity`` is true."""
    problems = [
        f"{_where(item)}: {item.nodeid}: {problem}"
        for control in controls_of(item)
        if (problem := catalogue.problem(control))
    ]
    if not owner_and_severity:
        return problems
    severity = _arguments(item, "severity")
    if severity is not None and (len(severity) != 1 or severity[0] not in SEVERITIES):
        allowed = ", ".join(SEVERITIES)
        problems.append(f"{item.nodeid}: severity {_shown(severity)} is not one of: {allowed}")
    owner = _arguments(item, "owner")
    if owner is not None and not (len(owner) == 1 and isinstance(owner[0], str) and owner[0]):
        problems.append(f"{item.nodeid}: owner {_shown(owner)} must be one non-empty name")
    return problems


def _where(item: pytest.Item) -> str:
    """``path:line`` of the test (its first decorator), as editors jump to it."""
    path, line, _ = item.location
    return f"{path}:{line + 1}" if line is not None else path


def _title(item: pytest.Item) -> str:
    function = getattr(item, "function", None)
    doc = (getattr(function, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


def mark_item(item: pytest.Item, waivers: Waivers) -> None:
    """Carry controls, severity, owner and title in user properties; label it for Allure;
    turn an item a waiver covers into a non-strict xfail, so its failure does not fail the run."""
    controls = [str(c) for c in controls_of(item)]
    severity = str((_arguments(item, "severity") or ("medium",))[0])
    owner = str((_arguments(item, "owner") or ("",))[0])
    properties = [(SEVERITY_PROPERTY, severity)]
    if controls:
        properties.append((CONTROLS_PROPERTY, ",".join(controls)))
        item.add_marker(pytest.mark.allure_label(*controls, label_type="tag"))
    if owner:
        properties.append((OWNER_PROPERTY, owner))
        item.add_marker(pytest.mark.allure_label(owner, label_type="owner"))
    if title := _title(item):
        properties.append((TITLE_PROPERTY, title))
    item.add_marker(pytest.mark.allure_label(ALLURE_SEVERITY[severity], label_type="severity"))
    waiver = waivers.for_check(item.nodeid, controls)
    if waiver is not None:
        properties.append((WAIVER_PROPERTY, waiver.ticket))
        reason = (
            f"waived by {waiver.ticket} until {waiver.expires:%Y-%m-%dT%H:%M:%SZ} "
            f"(approved by {waiver.approver}; risk: {waiver.risk})"
        )
        item.add_marker(pytest.mark.xfail(reason=reason, strict=False))
        link = pytest.mark.allure_link(waiver.ticket, link_type="issue", name=waiver.ticket)
        item.add_marker(link)
    item.user_properties.extend(properties)


class ExpiredWaiverItem(pytest.Item):
    """Fails the run: an exception must not outlive its approval unnoticed."""

    def __init__(self, *, waiver: Waiver, source: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.waiver = waiver
        self._source = source

    def runtest(self) -> None:
        waiver = self.waiver
        pytest.fail(
            f"waiver {waiver.ticket} for {'control' if waiver.control else 'test'} "
            f"{waiver.subject} expired {waiver.expires:%Y-%m-%dT%H:%M:%SZ} (approved by "
            f"{waiver.approver}); fix what it covered, or renew it in {self._source} with a new "
            "expiry and approval",
            pytrace=False,
        )

    def reportinfo(self) -> tuple[Path, None, str]:
        return self._source, None, self.name


def expired_waiver_items(session: pytest.Session, waivers: Waivers) -> Sequence[pytest.Item]:
    if waivers.source is None:
        return []
    items = []
    for waiver in waivers.expired():
        name = f"expired waiver {waiver.ticket} ({waiver.subject})"
        item = ExpiredWaiverItem.from_parent(
            session,
            name=name,
            nodeid=f"{waivers.source.name}::{name}",
            waiver=waiver,
            source=waivers.source,
        )
        item.user_properties += [(SEVERITY_PROPERTY, "high"), (TITLE_PROPERTY, name)]
        item.add_marker(pytest.mark.allure_label(ALLURE_SEVERITY["high"], label_type="severity"))
        items.append(item)
    return items
