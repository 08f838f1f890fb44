"""The three questions about an existing backup: fresh, intact, restorable to what it recorded."""

import tempfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Literal

from opsproof.backup.artifacts.discover import Found, newest
from opsproof.backup.files.archive import extract, manifest_path
from opsproof.backup.files.verify import archive_intact, load_manifest, tree_matches
from opsproof.backup.postgres.amcheck import amcheck
from opsproof.backup.postgres.compare import every_check
from opsproof.backup.postgres.dump import globals_path
from opsproof.backup.postgres.fingerprint import DatabaseFingerprint
from opsproof.backup.postgres.integrity import dump_readable
from opsproof.backup.postgres.verify import restored_copy
from opsproof.backup.redis.compare import compare
from opsproof.backup.redis.fingerprint import RedisFingerprint
from opsproof.backup.redis.integrity import check_rdb, checksum_matches
from opsproof.backup.redis.scratch import scratch_redis
from opsproof.backup.store import read_checksum, read_fingerprint
from opsproof.backup.verdicts import all_of
from opsproof.errors import BackupError
from opsproof.probes.result import Figure, Observation

ArtifactKind = Literal["redis-rdb", "pg-dump", "archive"]


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def freshness(pattern: str, max_age: float, now: datetime) -> Observation:
    """The newest file matching ``pattern`` is younger than ``max_age`` seconds (the RPO)."""
    found = newest(pattern)
    if found is None:
        return Observation(False, pattern, f"{pattern}: no backup file matches")
    age = found.age_s(now)
    figures = {
        "newest_backup": Figure(found.path.name),
        "backup_age_s": Figure(round(age, 1), "s", f"<= {max_age:g}"),
    }
    stamp = found.modified.isoformat(timespec="seconds")
    reason = f"{found.path}: newest backup, written {stamp}, is {_duration(age)} old"
    if age > max_age:
        reason += f", older than the {_duration(max_age)} target: data since then would be lost"
        return Observation(False, pattern, reason, figures)
    return Observation(True, pattern, f"{reason} (target {_duration(max_age)})", figures)


def _newest_or_none(pattern: str) -> Found | Observation:
    found = newest(pattern)
    return found if found else Observation(False, pattern, f"{pattern}: no backup file matches")


def _recorded_checksum(path: Path) -> Observation:
    if read_checksum(path) is None:
        return Observation(True, str(path), f"{path}: no .sha256 recorded (not compared)")
    return checksum_matches(path)


def intact(kind: ArtifactKind, pattern: str, timeout: float) -> Observation:
    """The newest backup matches its recorded sha256 (when one is kept) and its own format's
    checker reads it whole."""
    found = _newest_or_none(pattern)
    if isinstance(found, Observation):
        return found
    path = found.path
    parts = [_recorded_checksum(path)]
    if kind == "redis-rdb":
        parts.append(check_rdb(path, timeout))
    elif kind == "pg-dump":
        parts.append(dump_readable(path, timeout))
    elif manifest_path(path).exists():
        parts.append(archive_intact(manifest_path(path), path))
    return all_of(pattern, parts, f"{path}: intact")


def _redis_restores(path: Path, timeout: float, required: bool) -> Observation:
    fingerprint = read_fingerprint(path, RedisFingerprint)
    if fingerprint is None and required:
        return Observation(False, str(path), f"{path}: no stored fingerprint to compare with")
    with scratch_redis(path, timeout) as scratch:
        if fingerprint is None:
            reason = f"{path}: loads into a scratch redis-server in {scratch.load_s:.2f}s"
            return Observation(
                True, str(path), reason, {"load_s": Figure(round(scratch.load_s, 3), "s")}
            )
        result = compare(fingerprint, scratch.endpoint, "kept")
    figures = {**result.figures, "load_s": Figure(round(scratch.load_s, 3), "s")}
    return Observation(result.ok, str(path), f"{path}: {result.reason}", figures)


def _postgres_restores(path: Path, timeout: float, required: bool) -> Observation:
    fingerprint = read_fingerprint(path, DatabaseFingerprint)
    if fingerprint is None and required:
        return Observation(False, str(path), f"{path}: no stored fingerprint to compare with")
    roles = globals_path(path)
    name = fingerprint.database if fingerprint else path.stem
    globals_sql = roles if roles.exists() else None
    with restored_copy(path, globals_sql, name, timeout, fingerprint) as copy:
        parts = [amcheck(copy.database, timeout)]
        if fingerprint is not None:
            parts += every_check(fingerprint, copy.fingerprint)
    compared = "compared with its fingerprint" if fingerprint else "no fingerprint to compare"
    verdict = all_of(str(path), parts, f"{path}: restores ({compared})")
    restore_s = Figure(round(copy.restore_s, 3), "s")
    return replace(verdict, figures={**verdict.figures, "restore_s": restore_s})


def _archive_restores(path: Path, timeout: float, required: bool) -> Observation:
    manifest_file = manifest_path(path)
    if not manifest_file.exists() and required:
        return Observation(False, str(path), f"{path}: no manifest to compare with")
    with tempfile.TemporaryDirectory(prefix="opsproof-files-restore-") as scratch:
        try:
            extract(path, Path(scratch))
            if not manifest_file.exists():
                return Observation(True, str(path), f"{path}: extracts (no manifest to compare)")
            return tree_matches(load_manifest(manifest_file), Path(scratch))
        except BackupError as exc:
            return Observation(False, str(path), str(exc))


def restores(kind: ArtifactKind, pattern: str, timeout: float, *, required: bool) -> Observation:
    """The newest backup restores to scratch, and (when its fingerprint or manifest was kept)
    into exactly what was recorded. ``required``: a missing fingerprint fails."""
    found = _newest_or_none(pattern)
    if isinstance(found, Observation):
        return found
    check = {
        "redis-rdb": _redis_restores,
        "pg-dump": _postgres_restores,
        "archive": _archive_restores,
    }
    try:
        return check[kind](found.path, timeout, required)
    except BackupError as exc:
        return Observation(False, str(found.path), f"{found.path}: does not restore: {exc}")
