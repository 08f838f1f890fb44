"""Evidence travels from a test to the run record as pytest user properties.

pytest-xdist ships ``report.user_properties`` from each worker to the controller, which alone
writes the run directory; strings survive that trip (and junit.xml), so every value is text.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import TypeAdapter

from opsproof.evidence.conclusion import VERDICT_PROPERTY
from opsproof.evidence.model import CHECK_VERDICTS, SEVERITIES, FigureRecord, Severity
from opsproof.evidence.records import DrillRecord, ExperimentRecord, LoadRecord
from opsproof.evidence.verdict import CheckVerdict
from opsproof.probes.result import Figure

FIGURE_PROPERTY = "opsproof.figure"
CONTROLS_PROPERTY = "opsproof.controls"
SEVERITY_PROPERTY = "opsproof.severity"
OWNER_PROPERTY = "opsproof.owner"
TITLE_PROPERTY = "opsproof.title"
WAIVER_PROPERTY = "opsproof.waiver"
EXPERIMENT_PROPERTY = "opsproof.experiment"
DRILL_PROPERTY = "opsproof.drill"
LOAD_PROPERTY = "opsproof.load"

EXPERIMENT = TypeAdapter(ExperimentRecord)
DRILL = TypeAdapter(DrillRecord)
LOAD = TypeAdapter(LoadRecord)


def figure_property(name: str, figure: Figure) -> tuple[str, str]:
    """A figure as a pytest user property (strings travel through xdist and junit.xml)."""
    payload = {"name": name, "value": figure.value, "unit": figure.unit, "target": figure.target}
    return FIGURE_PROPERTY, json.dumps(payload)


def experiment_property(record: ExperimentRecord) -> tuple[str, str]:
    return EXPERIMENT_PROPERTY, EXPERIMENT.dump_json(record).decode()


def drill_property(record: DrillRecord) -> tuple[str, str]:
    return DRILL_PROPERTY, DRILL.dump_json(record).decode()


def load_property(record: LoadRecord) -> tuple[str, str]:
    return LOAD_PROPERTY, LOAD.dump_json(record).decode()


@dataclass
class ItemEvidence:
    """Everything one test reported about itself."""

    controls: list[str] = field(default_factory=list)
    figures: list[FigureRecord] = field(default_factory=list)
    severity: Severity = "medium"
    owner: str = ""
    title: str = ""
    waiver: str | None = None
    experiments: list[ExperimentRecord] = field(default_factory=list)
    drills: list[DrillRecord] = field(default_factory=list)
    loads: list[LoadRecord] = field(default_factory=list)
    verdict: CheckVerdict | None = None
    """Declared by the item (``conclusion.conclude``) before it was skipped."""


def read_properties(properties: Iterable[tuple[str, object]]) -> ItemEvidence:
    found = ItemEvidence()
    for key, value in properties:
        text = str(value)
        if key == FIGURE_PROPERTY:
            found.figures.append(FigureRecord(**json.loads(text)))
        elif key == CONTROLS_PROPERTY:
            found.controls = text.split(",")
        elif key == SEVERITY_PROPERTY and text in SEVERITIES:
            found.severity = text
        elif key == OWNER_PROPERTY:
            found.owner = text
        elif key == TITLE_PROPERTY:
            found.title = text
        elif key == WAIVER_PROPERTY:
            found.waiver = text
        elif key == EXPERIMENT_PROPERTY:
            found.experiments.append(EXPERIMENT.validate_json(text))
        elif key == DRILL_PROPERTY:
            found.drills.append(DRILL.validate_json(text))
        elif key == LOAD_PROPERTY:
            found.loads.append(LOAD.validate_json(text))
        elif key == VERDICT_PROPERTY and text in CHECK_VERDICTS:
            found.verdict = text
    return found
