"""Redis: a backup taken at a fingerprinted instant, an intact RDB, and a scratch restore that
holds exactly what the fingerprint saw (keys with TTLs included)."""

import pytest

from opsproof.backup.redis.compare import compare
from opsproof.backup.redis.integrity import check_rdb, checksum_matches
from opsproof.backup.redis.scratch import scratch_redis
from opsproof.backup.session import DrSession
from opsproof.backup.targets import RedisSource
from opsproof.backup.verdicts import all_of
from opsproof.probes.result import Figure, Observation
from opsproof.verify import Verifier

pytestmark = [
    pytest.mark.control("SOC2:A1.2", "ISO27001:A.8.13", "NIST800-53:CP-9"),
    pytest.mark.severity("high"),
]


def test_redis_backup_taken(
    redis_source: RedisSource, dr_session: DrSession, verify: Verifier
) -> None:
    """A backup is taken with writes paused around its fingerprint and BGSAVE; an RDB on the
    server's host is copied over SSH and matches the file there."""
    backup = dr_session.redis_backup(redis_source).get()
    fingerprint = backup.fingerprint
    copied = "over SSH, sha256 as on the host" if redis_source.remote else "here"
    figures = {
        "keys": Figure(fingerprint.total_keys),
        "fingerprint_method": Figure(fingerprint.method),
        "writes_paused_ms": Figure(round(backup.pause_ms, 1), "ms"),
        "rdb_copied_from": Figure(f"{backup.origin} ({copied})"),
        "rdb_bytes": Figure(backup.rdb.stat().st_size, "bytes"),
        "copy_s": Figure(round(backup.copy_s, 3), "s"),
        "backup_s": Figure(round(backup.duration_s, 3), "s"),
    }
    reason = (
        f"{backup.rdb}: {fingerprint.total_keys} keys, fingerprinted by {fingerprint.method} "
        f"with writes paused {backup.pause_ms:.0f} ms; {backup.origin} copied {copied}"
    )
    verify(lambda: Observation(True, redis_source.endpoint.target, reason, figures))


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_redis_rdb_intact(
    redis_source: RedisSource, dr_session: DrSession, verify: Verifier
) -> None:
    """The RDB matches its recorded sha256 and redis-check-rdb reads it whole."""
    backup = dr_session.redis_backup(redis_source).get()
    parts = [checksum_matches(backup.rdb), check_rdb(backup.rdb, dr_session.timeout)]
    verify(lambda: all_of(str(backup.rdb), parts, f"{backup.rdb}: intact"))


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_redis_restore_matches_fingerprint(
    redis_source: RedisSource, dr_session: DrSession, verify: Verifier
) -> None:
    """Restored on a scratch server, the RDB holds exactly the fingerprinted keys."""
    backup = dr_session.redis_backup(redis_source).get()
    with scratch_redis(backup.rdb, dr_session.timeout) as scratch:
        result = compare(backup.fingerprint, scratch.endpoint, "kept")
    load = Figure(round(scratch.load_s, 3), "s")
    verify(
        lambda: Observation(
            result.ok, str(backup.rdb), result.reason, {**result.figures, "load_s": load}
        )
    )
