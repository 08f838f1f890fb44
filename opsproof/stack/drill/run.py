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
from opsproof.backup.drill.judge import DrillOutcome, judge, objective
from opsproof.backup.drill.objectives import Targets
from opsproof.backup.drill.timeline import Timeline
from opsproof.backup.drill.writes import ApiJobs, RecoveryPoint, RedisMarkers, Writer
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.dump import back_up as back_up_postgres
from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.snapshot import back_up as back_up_redis
from opsproof.errors import BackupError, OpsproofError
from opsproof.evidence.records import DrillIssue, DrillRecord, IntegrityResult
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


@dataclass
class _Findings:
    integrity: list[IntegrityResult]
    points: dict[str, RecoveryPoint]
    failure: str = ""


def _recover(
    state_dir: Path, state: StackState, store: Path, timeout: float, timeline: Timeline
) -> _Findings:
    found = _Findings([], {})
    source_redis = Endpoint(state.values["redis.url"], timeout=min(timeout, 30.0))
    source_db = Database(state.values["postgres.dsn"], timeout=min(timeout, 30.0))
    markers = RedisMarkers(source_redis, f"opsproof:drill:{secrets.token_hex(4)}:")
    writer = Writer([ApiJobs(state.values["api.url"], state.values["tls.ca_file"]), markers])
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
            f"service stopped, Redis and PostgreSQL data wiped, after {len(log.of('postgres'))} "
            f"jobs and {len(log.of('redis'))} Redis writes acknowledged ({log.failures} "
            "unacknowledged)"
        )
        with timeline.phase("disaster", note):
            destroy(state_dir, state, STOP_TIMEOUT)
        with timeline.phase(FIRST_RESTORE, "RDB copied back, redis-server started"):
            restored_redis = restore_redis(state_dir, state, redis_backup.rdb, timeout)
        with timeline.phase("verify redis"):
            matches = redis_matches(redis_backup, restored_redis, "dropped")
            found.integrity += results("redis", "restore", [matches])
            present = redis_markers(restored_redis, markers.pattern)
            point, result = writes_restored(
                "redis", log.of("redis"), present, redis_backup.fingerprint.taken_at
            )
            found.points["redis"] = point
            found.integrity.append(result)
        with timeline.phase("restore postgres", "initdb, roles, pg_restore --exit-on-error"):
            restored_db = restore_postgres(state_dir, state, postgres_backup, timeout)
        with timeline.phase("verify postgres"):
            found.integrity += postgres_restored(postgres_backup, restored_db, timeout)
            jobs = jobs_present(restored_db, log.of("postgres"))
            point, result = writes_restored(
                "postgres", log.of("postgres"), jobs, postgres_backup.fingerprint.taken_at
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
        objective("redis", targets.redis, rto["redis"], rpo.get("redis")),
        objective("postgres", targets.postgres, rto["postgres"], rpo.get("postgres")),
        objective("service", targets.service, rto["service"], service_rpo),
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
