"""What the drill verifies, as integrity results for its record: backups on scratch servers
before anything is destroyed, the restored production data, and the acknowledged writes."""

from collections.abc import Iterable
from datetime import datetime

import psycopg

from opsproof.backup.drill.writes import Ack, RecoveryPoint, recovery_point
from opsproof.backup.postgres.compare import every_check
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.dump import PostgresBackup
from opsproof.backup.postgres.verify import fingerprint_of, restored_copy
from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.compare import ExpiredKeys, compare
from opsproof.backup.redis.scratch import scratch_redis
from opsproof.backup.redis.snapshot import RedisBackup
from opsproof.errors import BackupError
from opsproof.evidence.records import IntegrityResult
from opsproof.probes.result import Observation


def results(system: str, stage: str, observations: Iterable[Observation]) -> list[IntegrityResult]:
    return [
        IntegrityResult(system=system, check=f"{stage}: {o.target}", passed=o.ok, actual=o.reason)
        for o in observations
    ]


def redis_matches(backup: RedisBackup, endpoint: Endpoint, expired: ExpiredKeys) -> Observation:
    return compare(backup.fingerprint, endpoint, expired)


def redis_backup_on_scratch(
    backup: RedisBackup, timeout: float, system: str = "redis"
) -> list[IntegrityResult]:
    """The RDB loaded by a scratch server and compared with its fingerprint."""
    with scratch_redis(backup.rdb, timeout) as scratch:
        return results(system, "backup", [redis_matches(backup, scratch.endpoint, "kept")])


def postgres_backup_on_scratch(
    backup: PostgresBackup, timeout: float, system: str = "postgres"
) -> list[IntegrityResult]:
    """The dump restored into a scratch cluster and compared with its fingerprint."""
    with restored_copy(
        backup.dump, backup.globals_sql, backup.fingerprint.database, timeout, backup.fingerprint
    ) as copy:
        checks = every_check(backup.fingerprint, copy.fingerprint)
    return results(system, "backup", checks)


def backups_on_scratch(
    redis_backup: RedisBackup, postgres_backup: PostgresBackup, timeout: float
) -> list[IntegrityResult]:
    """Both backups restored to scratch servers and compared with their fingerprints."""
    return redis_backup_on_scratch(redis_backup, timeout) + postgres_backup_on_scratch(
        postgres_backup, timeout
    )


def postgres_restored(
    backup: PostgresBackup, database: Database, timeout: float, system: str = "postgres"
) -> list[IntegrityResult]:
    restored = fingerprint_of(database, timeout, backup.fingerprint)
    checks = every_check(backup.fingerprint, restored)
    return results(system, "restore", checks)


def redis_markers(endpoint: Endpoint, pattern: str) -> set[str]:
    with endpoint.client() as client:
        return {key.decode() for key in client.scan_iter(match=pattern, count=1000)}


def jobs_present(database: Database, acks: list[Ack]) -> set[str]:
    try:
        with database.connect() as conn:
            rows = conn.execute(
                "SELECT id::text FROM jobs WHERE id = ANY(%s::uuid[])", ([a.ident for a in acks],)
            ).fetchall()
    except psycopg.Error as exc:
        raise BackupError(f"{database.target}: cannot read the drill's jobs: {exc}") from None
    return {str(row[0]) for row in rows}


def writes_restored(
    system: str, acks: list[Ack], present: set[str], backup_at: datetime
) -> tuple[RecoveryPoint, IntegrityResult]:
    """The recovery point, and whether every write acknowledged before the backup came back."""
    point = recovery_point(acks, present, backup_at)
    lost = point.missing_before
    restored = f"{point.restored} of {point.acknowledged} acknowledged writes restored"
    result = IntegrityResult(
        system=system,
        check="writes acknowledged before the backup are restored",
        passed=not lost,
        expected=f"{sum(1 for a in acks if a.at < backup_at)} present",
        actual=f"{restored}; {len(lost)} from before the backup missing: {', '.join(lost[:5])}"
        if lost
        else f"{restored}; all from before the backup present",
    )
    return point, result
