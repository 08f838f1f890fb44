"""The DR drill on the reference stack, end to end, as one auditable record.

steady state (every component alive: the drill starts again what it stops, so a dead one would
be repaired unseen) → acknowledged writes start → back up Redis and PostgreSQL → verify both backups
on scratch servers (nothing is destroyed unless they verify) → disaster: service stopped, data
directories wiped → restore Redis, verify → restore PostgreSQL, verify → start the service →
healthy. RTO runs from the first restore step to the moment a system is verified (the service:
healthy through nginx); RPO is the last acknowledged write before the disaster against the
newest acknowledged write the restore brought back.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from opsproof.backup.drill.checks import (
    backups_on_scratch,
    jobs_present,
    postgres_restored,
    redis_markers,
    redis_matches,
    results,
    writes_restored,
)
from opsproof.backup.drill.objectives import Targets
from opsproof.backup.drill.timeline import Timeline
from opsproof.backup.drill.writes import RecoveryPoint, Writer
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.dump import back_up as back_up_postgres
from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.snapshot import back_up as back_up_redis
from opsproof.errors import BackupError, OpsproofError
from opsproof.evidence.records import DrillIssue, DrillRecord, IntegrityResult, RecoveryObjective
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes.launched import StackState
from opsproof.stack.drill.reference import destroy, restore_postgres, restore_redis, start_service
from opsproof.stack.readiness import wait_healthy
from opsproof.stack.status import not_whole

SCENARIO = "reference stack: the disks of Redis and PostgreSQL are lost"
FIRST_RESTORE = "restore redis"
WRITES_BEFORE_BACKUP = 3
WRITES_AFTER_BACKUP = 5
"""Acknowledged writes the backup will miss, so the RPO measured is a real window."""
STEADY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class DrillOutcome:
    record: DrillRecord
    observation: Observation


@dataclass
class _Findings:
    integrity: list[IntegrityResult]
    points: dict[str, RecoveryPoint]
    failure: str = ""


def _objective(
    system: str, targets: tuple[float, float], rto: float | None, rpo: float | None
) -> RecoveryObjective:
    return RecoveryObjective(
        system=system,
        rto_target_s=targets[0],
        rto_achieved_s=None if rto is None else round(rto, 3),
        rpo_target_s=targets[1],
        rpo_achieved_s=None if rpo is None else round(rpo, 3),
    )


def _recover(
    state_dir: Path, state: StackState, store: Path, timeout: float, timeline: Timeline
) -> _Findings:
    found = _Findings([], {})
    source_redis = Endpoint(state.values["redis.url"], timeout=min(timeout, 30.0))
    source_db = Database(state.values["postgres.dsn"], timeout=min(timeout, 30.0))
    writer = Writer(
        state.values["api.url"], state.values["tls.ca_file"], source_redis, secrets.token_hex(4)
    )
    try:
        with timeline.phase(
            "steady state", "every component alive, /health/deep answers 200 through nginx"
        ):
            if why := not_whole(state_dir, "the drill"):
                raise BackupError(why)
            wait_healthy(state, STEADY_TIMEOUT)
        started = datetime.now(UTC)
        writer.start()
        writer.wait_for_acks_after(started, WRITES_BEFORE_BACKUP, STEADY_TIMEOUT)
        rdb = Path(state.values["redis.data_dir"]) / "dump.rdb"
        with timeline.phase("back up redis", "CLIENT PAUSE WRITE, fingerprint, BGSAVE"):
            redis_backup = back_up_redis(source_redis, "drill", store, timeout, rdb_file=rdb)
        with timeline.phase("back up postgres", "exported snapshot, fingerprint, pg_dump -Fc"):
            postgres_backup = back_up_postgres(source_db, "drill", store, timeout)
        with timeline.phase("verify backups on scratch servers"):
            found.integrity += backups_on_scratch(redis_backup, postgres_backup, timeout)
            if not all(result.passed for result in found.integrity):
                raise BackupError("the backups do not match their fingerprints")
        writer.wait_for_acks_after(
            postgres_backup.fingerprint.taken_at, WRITES_AFTER_BACKUP, STEADY_TIMEOUT
        )
        writer.stop(STOP_TIMEOUT)
        log = writer.log
        note = (
            f"service stopped, Redis and PostgreSQL data wiped, after {len(log.postgres)} jobs "
            f"and {len(log.redis)} Redis writes acknowledged ({log.failures} unacknowledged)"
        )
        with timeline.phase("disaster", note):
            destroy(state_dir, state, STOP_TIMEOUT)
        with timeline.phase(FIRST_RESTORE, "RDB copied back, redis-server started"):
            restored_redis = restore_redis(state_dir, state, redis_backup.rdb, timeout)
        with timeline.phase("verify redis"):
            matches = redis_matches(redis_backup, restored_redis, "dropped")
            found.integrity += results("redis", "restore", [matches])
            markers = redis_markers(restored_redis, writer.marker_pattern)
            point, result = writes_restored(
                "redis", writer.log.redis, markers, redis_backup.fingerprint.taken_at
            )
            found.points["redis"] = point
            found.integrity.append(result)
        with timeline.phase("restore postgres", "initdb, roles, pg_restore --exit-on-error"):
            restored_db = restore_postgres(state_dir, state, postgres_backup, timeout)
        with timeline.phase("verify postgres"):
            found.integrity += postgres_restored(postgres_backup, restored_db, timeout)
            jobs = jobs_present(restored_db, writer.log.postgres)
            point, result = writes_restored(
                "postgres", writer.log.postgres, jobs, postgres_backup.fingerprint.taken_at
            )
            found.points["postgres"] = point
            found.integrity.append(result)
        with timeline.phase("start service", "api and worker"):
            start_service(state_dir, timeout)
        with timeline.phase("service healthy", "/health/deep answers 200 through nginx"):
            wait_healthy(state, timeout)
    except (OpsproofError, OSError) as exc:
        found.failure = f"{timeline.phases[-1].name if timeline.phases else 'start'}: {exc}"
    finally:
        writer.stop(STOP_TIMEOUT)
    return found


def judge(record: DrillRecord, failure: str) -> Observation:
    """Passed only with no failure, every integrity result passed and every objective met."""
    figures: dict[str, Figure] = {}
    for o in record.objectives:
        figures[f"rto_{o.system}_s"] = Figure(o.rto_achieved_s, "s", f"<= {o.rto_target_s:g}")
        figures[f"rpo_{o.system}_s"] = Figure(o.rpo_achieved_s, "s", f"<= {o.rpo_target_s:g}")
    failed = [r for r in record.integrity if not r.passed]
    missed = [o.system for o in record.objectives if not (o.rto_met() and o.rpo_met())]
    problems = [failure] if failure else []
    problems += [f"{r.system} {r.check}: {r.actual}" for r in failed]
    if missed:
        problems.append(f"objectives missed for {', '.join(missed)}")
    if problems:
        return Observation(False, SCENARIO, "DR drill failed: " + "; ".join(problems), figures)
    service = next(o for o in record.objectives if o.system == "service")
    reason = (
        f"DR drill passed: service healthy and verified {service.rto_achieved_s:.1f}s after the "
        f"restore began (target {service.rto_target_s:g}s), data loss window "
        f"{service.rpo_achieved_s:.1f}s (target {service.rpo_target_s:g}s)"
    )
    return Observation(True, SCENARIO, reason, figures)


def run_drill(state_dir: Path, store: Path, targets: Targets, timeout: float) -> DrillOutcome:
    """Run the drill on the reference stack recorded in ``state_dir``; never raises for a failed
    drill: the outcome says what failed, and the record keeps every phase up to it."""
    state = StackState.load(state_dir)
    if state is None:
        raise BackupError(f"no reference stack recorded in {state_dir}; start one first")
    timeline = Timeline()
    found = _recover(state_dir, state, store, timeout, timeline)
    rpo = {name: point.rpo_s for name, point in found.points.items()}
    rto = {
        "redis": timeline.between(FIRST_RESTORE, "verify redis"),
        "postgres": timeline.between(FIRST_RESTORE, "verify postgres"),
        "service": timeline.between(FIRST_RESTORE, "service healthy"),
    }
    service_rpo = None if None in rpo.values() or not rpo else max(v or 0.0 for v in rpo.values())
    objectives = [
        _objective("redis", targets.redis, rto["redis"], rpo.get("redis")),
        _objective("postgres", targets.postgres, rto["postgres"], rpo.get("postgres")),
        _objective("service", targets.service, rto["service"], service_rpo),
    ]
    issues = [
        DrillIssue(description=f"{o.system}: RTO or RPO target missed", severity="high")
        for o in objectives
        if not (o.rto_met() and o.rpo_met())
    ]
    if found.failure:
        issues.insert(0, DrillIssue(description=found.failure, severity="critical"))
    record = DrillRecord(
        scenario=SCENARIO,
        scope=["redis", "postgres", "api", "worker"],
        objectives=objectives,
        phases=timeline.phases,
        integrity=found.integrity,
        issues=issues,
    )
    return DrillOutcome(record, judge(record, found.failure))
