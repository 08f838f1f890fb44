"""Chaos and DR records are validated where a suite makes them, so a mistake fails that test."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from opsproof.evidence.records import (
    DrillPhase,
    DrillRecord,
    ExperimentRecord,
    RecoveryObjective,
)


def test_objectives_are_met_only_when_achieved_within_target() -> None:
    assert RecoveryObjective("db", 900, 899.9, 60, 60).rto_met()
    assert not RecoveryObjective("db", 900, 900.1, 60, 0).rto_met()
    assert not RecoveryObjective("db", 900, None, 60, None).rpo_met()  # never recovered


def test_a_drill_is_judged_by_all_objectives_and_integrity_results(
    drill: Callable[..., DrillRecord],
) -> None:
    assert drill().objectives_met() and not drill().integrity_ok()
    assert not drill(rto_s=None).objectives_met()


def test_recovery_in_time_needs_a_target_and_a_recovery(
    experiment: Callable[..., ExperimentRecord],
) -> None:
    assert experiment(3.2).recovered_in_time() is True
    assert experiment(None).recovered_in_time() is None
    assert experiment(30.0).recovered_in_time() is False


@pytest.mark.parametrize(
    "make",
    [
        lambda: ExperimentRecord("x", "h", "f", verdict="pass"),
        lambda: ExperimentRecord("x", "h", "f", "passed", recovery_s=-1),
        lambda: ExperimentRecord("x", "h", "f", "passed", colour="red"),
        lambda: DrillPhase("restore", datetime(2026, 1, 1)),  # no timezone
        lambda: RecoveryObjective("db", "15 min", 1, 1, 1),
    ],
)
def test_a_wrong_record_fails_where_it_is_made(make: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        make()


def test_phase_duration_is_from_its_own_times() -> None:
    start = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    assert DrillPhase("restore", start, start.replace(minute=5)).duration_s() == 300
    assert DrillPhase("restore", start).duration_s() is None
