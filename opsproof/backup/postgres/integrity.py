"""Is a pg_dump archive intact? pg_restore reads it whole into nothing: every data block is
read and decompressed, so truncation and corruption show, not only a readable table of contents."""

from pathlib import Path

from opsproof.backup.tools import postgres_tool, run
from opsproof.errors import BackupError
from opsproof.probes.result import Figure, Observation


def dump_readable(path: Path, timeout: float) -> Observation:
    target = str(path)
    try:
        listing = run([postgres_tool("pg_restore"), "--list", str(path)], timeout)
        run([postgres_tool("pg_restore"), "--file=/dev/null", str(path)], timeout)
    except BackupError as exc:
        return Observation(False, target, f"{path}: unreadable archive: {exc}")
    entries = [line for line in listing.stdout.splitlines() if line and not line.startswith(";")]
    figures = {
        "archive_entries": Figure(len(entries)),
        "dump_bytes": Figure(path.stat().st_size, "bytes"),
    }
    reason = f"{path}: pg_restore reads all {len(entries)} entries"
    return Observation(True, target, reason, figures)
