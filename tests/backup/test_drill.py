"""The DR suite end to end on a reference stack of its own (`opsproof run dr`), and how a
drill that misses its objectives is judged."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsproof.evidence.records import DrillRecord, IntegrityResult, RecoveryObjective
from opsproof.stack.drill.run import SCENARIO, judge
from opsproof.stack.launcher import start_stack, stop_stack
from tests.project import PROJECT_ROOT
from tests.reports.test_oscal import load_oscal

pytestmark = pytest.mark.stack
RUN_TIMEOUT = 240.0


@pytest.fixture(scope="module")
def drill_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A stack of its own: the drill wipes its data, and other tests must not feel that."""
    state_dir = tmp_path_factory.mktemp("drill-stack")
    start_stack(state_dir)
    yield state_dir
    stop_stack(state_dir)


def test_opsproof_run_dr_passes_on_the_reference_stack(drill_stack: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "opsproof.cli", "run", "dr", "--state-dir", str(drill_stack),
         "--reports-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=PROJECT_ROOT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    [run_dir] = tmp_path.iterdir()
    evidence = json.loads((run_dir / "evidence.json").read_text())
    outcomes = {check["id"].split("::")[1]: check["verdict"] for check in evidence["checks"]}
    assert set(outcomes.values()) == {"passed"}
    assert "test_postgres_table_restored[postgres public.jobs]" in outcomes
    assert evidence["controls"]["SOC2:A1.3"] == "passed"
    [drill] = evidence["drills"]
    phases = [phase["name"] for phase in drill["phases"]]
    assert phases == [
        "steady state", "back up redis", "back up postgres", "verify backups on scratch servers",
        "disaster", "restore redis", "verify redis", "restore postgres", "verify postgres",
        "start service", "service healthy",
    ]  # fmt: skip
    objectives = {o["system"]: o for o in drill["objectives"]}
    assert objectives["service"]["rto_target_s"] == 900.0
    assert 0 < objectives["service"]["rto_achieved_s"] < 60
    assert 0 < objectives["postgres"]["rpo_achieved_s"] < 60
    assert all(result["passed"] for result in drill["integrity"])
    figures = {f["name"] for c in evidence["checks"] for f in c["figures"]}
    assert {"rto_service_s", "rpo_redis_s", "rpo_postgres_s", "backup_age_s"} <= figures
    # the drill's evidence as an auditor's tool reads it (compliance-trestle's OSCAL models)
    results = load_oscal(run_dir / "oscal")["assessment-results.json"].results[0]
    states = {f.target.title: f.target.status.state.value for f in results.findings}
    assert states["SOC2:A1.3"] == "satisfied" and len(results.observations) == len(outcomes)


def test_a_drill_that_misses_its_objectives_fails_naming_them() -> None:
    record = DrillRecord(
        scenario=SCENARIO,
        scope=["redis", "postgres"],
        objectives=[
            RecoveryObjective(system="redis", rto_target_s=1, rto_achieved_s=0.5,
                              rpo_target_s=1, rpo_achieved_s=0.2),
            RecoveryObjective(system="service", rto_target_s=1, rto_achieved_s=7.5,
                              rpo_target_s=1, rpo_achieved_s=None),
        ],
        integrity=[IntegrityResult(system="postgres", check="restore: public.jobs", passed=False,
                                   actual="public.jobs: 3 rows restored, 4 at the snapshot")],
    )  # fmt: skip
    verdict = judge(record, failure="")
    assert not verdict.ok
    assert "postgres restore: public.jobs: public.jobs: 3 rows restored, 4 at the snapshot" in (
        verdict.reason
    )
    assert "objectives missed for service" in verdict.reason
    assert verdict.figures["rto_service_s"].target == "<= 1"
