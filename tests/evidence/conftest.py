"""Run records as the collector builds them, for the evidence unit tests."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from opsproof.evidence.model import CheckRecord, FigureRecord, RunRecord
from opsproof.evidence.records import (
    DrillIssue,
    DrillPhase,
    DrillRecord,
    ExperimentRecord,
    IntegrityResult,
    RecoveryObjective,
    SignOff,
)

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
SECRET = "hunter22-planted"


def _make_run(
    kind: str = "gate", started: datetime = START, seconds: float = 5.0, exit_status: int = 1
) -> RunRecord:
    return RunRecord(
        kind=kind,
        environment="staging",
        config_file="opsproof.yaml",
        started_at=started,
        finished_at=started + timedelta(seconds=seconds),
        opsproof_version="0.1.0",
        exit_status=exit_status,
        verdict="failed" if exit_status else "passed",
        checks=[
            CheckRecord(
                "checks/test_tls.py::test_certificate_expiry[api]",
                "passed",
                0.1,
                ["SOC2:CC6.7"],
                [FigureRecord("days_to_expiry", 89, "days", ">= 14")],
            ),
            CheckRecord(
                "checks/test_redis.py::test_redis_ping[redis]",
                "failed",
                0.2,
                ["SOC2:CC7.2", "SOC2:CC6.7"],
                reason=f"redis://:{SECRET}@127.0.0.1:6390: PING failed",
                severity="high",
                owner="team-data",
            ),
        ],
        controls={"SOC2:CC6.7": "failed", "SOC2:CC7.2": "failed", "SOC2:A1.1": "not_evaluated"},
    )


def _experiment(recovery_s: float | None = 3.2) -> ExperimentRecord:
    return ExperimentRecord(
        name="redis killed",
        hypothesis="/health/deep names redis within 1 s and recovers by itself",
        fault="SIGKILL redis-server",
        verdict="passed" if recovery_s is not None else "failed",
        target="redis",
        time_to_impact_s=0.4,
        recovery_s=recovery_s,
        recovery_target_s=15,
    )


def _drill(rto_s: float | None = 312.0) -> DrillRecord:
    return DrillRecord(
        scenario="PostgreSQL primary lost",
        scope=["postgres", "api"],
        objectives=[RecoveryObjective("postgres", 900, rto_s, 900, 60)],
        phases=[
            DrillPhase("backup", START, START + timedelta(seconds=40)),
            DrillPhase("restore", START + timedelta(seconds=45), START + timedelta(seconds=300)),
            DrillPhase(
                "verify",
                START + timedelta(seconds=300),
                START + timedelta(seconds=312),
                "failed",
                "one row missing",
            ),
        ],
        integrity=[IntegrityResult("postgres", "row count of jobs", False, "1000", "999")],
        issues=[DrillIssue("restore needs a manual step", "high", "script it", "team-db")],
        sign_off=[SignOff("Head of operations")],
    )


@pytest.fixture
def secret() -> str:
    """A secret the redactor knows, planted in the sample run's failure reason."""
    return SECRET


@pytest.fixture
def make_run() -> Callable[..., RunRecord]:
    """``make_run(kind=..., started=..., seconds=..., exit_status=...)``: a gate-like run."""
    return _make_run


@pytest.fixture
def run() -> RunRecord:
    return _make_run()


@pytest.fixture
def experiment() -> Callable[..., ExperimentRecord]:
    """``experiment(recovery_s=...)``: a chaos experiment; None: it did not recover."""
    return _experiment


@pytest.fixture
def drill() -> Callable[..., DrillRecord]:
    """``drill(rto_s=...)``: a DR drill of PostgreSQL; None: it was not recovered."""
    return _drill
