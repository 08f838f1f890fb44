"""The ``evidence`` fixture: how a chaos, DR or load test puts its findings into the report.

    def test_redis_outage(evidence):
        ...
        evidence.record_experiment(ExperimentRecord(name=..., hypothesis=..., fault=...,
                                                    verdict="passed", recovery_s=4.2))
        evidence.figure("p95_ms", 231, "ms", "< 500")

Records become user properties (so pytest-xdist carries them to the controller) and Allure
attachments (when allure-results are written).
"""

import allure
import pytest

from opsproof.evidence.properties import (
    drill_property,
    experiment_property,
    figure_property,
    load_property,
)
from opsproof.evidence.records import DrillRecord, ExperimentRecord, LoadRecord
from opsproof.probes.result import Figure


class EvidenceRecorder:
    """Attached to one test item; every call adds to that item's evidence."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item

    def figure(
        self, name: str, value: float | str | bool | None, unit: str = "", target: str | None = None
    ) -> None:
        """A measured value (p95 latency, recovery time), judged against ``target`` if given."""
        self._item.user_properties.append(figure_property(name, Figure(value, unit, target)))

    def record_experiment(self, experiment: ExperimentRecord) -> None:
        """One chaos experiment's hypothesis, fault, time to impact, recovery and verdict."""
        key, text = experiment_property(experiment)
        self._item.user_properties.append((key, text))
        allure.attach(text, f"experiment: {experiment.name}", allure.attachment_type.JSON)

    def record_drill(self, drill: DrillRecord) -> None:
        """A DR drill's scope, RTO/RPO per system, timeline, integrity results and issues."""
        key, text = drill_property(drill)
        self._item.user_properties.append((key, text))
        allure.attach(text, f"DR drill: {drill.scenario}", allure.attachment_type.JSON)

    def record_load(self, load: LoadRecord) -> None:
        """A load run's chart and its requests by name: counts, percentiles, statuses, why
        requests failed."""
        key, text = load_property(load)
        self._item.user_properties.append((key, text))
        allure.attach(text, f"load: {load.profile}", allure.attachment_type.JSON)
