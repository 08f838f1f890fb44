"""Is an RDB file intact? Its recorded sha256, then redis-check-rdb (which reads every entry
and the file's own CRC64)."""

from pathlib import Path

from opsproof.backup.store import read_checksum, sha256_file
from opsproof.backup.tools import redis_tool, run
from opsproof.errors import BackupError
from opsproof.probes.result import Figure, Observation


def checksum_matches(path: Path) -> Observation:
    """The file's sha256 equals the one recorded beside it at backup time."""
    recorded = read_checksum(path)
    if recorded is None:
        return Observation(False, str(path), f"{path}: no {path.name}.sha256 recorded beside it")
    actual = sha256_file(path)
    figures = {"sha256": Figure(actual, target=f"== {recorded}")}
    if actual != recorded:
        reason = f"{path}: sha256 {actual} differs from the recorded {recorded}: changed since"
        return Observation(False, str(path), reason + " the backup", figures)
    return Observation(True, str(path), f"{path}: sha256 matches the recorded one", figures)


def check_rdb(path: Path, timeout: float) -> Observation:
    """redis-check-rdb accepts the whole file."""
    target = str(path)
    try:
        run([redis_tool("redis-check-rdb"), str(path)], timeout)
    except BackupError as exc:
        return Observation(False, target, f"{path}: not a valid RDB: {exc}")
    size = path.stat().st_size
    figures = {"rdb_bytes": Figure(size, "bytes")}
    return Observation(True, target, f"{path}: redis-check-rdb finds it valid", figures)
