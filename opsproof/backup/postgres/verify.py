"""Restore a backup into a scratch cluster and fingerprint the result, ready to compare."""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.fingerprint import DatabaseFingerprint, begin_snapshot, capture
from opsproof.backup.postgres.restore import restore_dump, restore_globals
from opsproof.backup.postgres.reword import reworded
from opsproof.backup.postgres.scratch import scratch_cluster
from opsproof.backup.postgres.versions import older_tool_hint
from opsproof.errors import BackupError


@dataclass(frozen=True)
class RestoredCopy:
    database: Database
    """Superuser connection to the restored database in the scratch cluster."""
    fingerprint: DatabaseFingerprint
    restore_s: float
    """Globals and pg_restore."""
    fingerprint_s: float


def fingerprint_of(
    database: Database, timeout: float, backup: DatabaseFingerprint | None = None
) -> DatabaseFingerprint:
    """``database``'s fingerprint; given the ``backup``'s, with the backup's definitions this
    server words differently replayed (``reword.py``), so the two compare by meaning."""
    try:
        with database.connect() as conn:
            begin_snapshot(conn, timeout)
            fingerprint = capture(conn, datetime.now(UTC))
            conn.execute("COMMIT")
            if backup is not None:
                again = reworded(conn, backup, fingerprint.objects, timeout)
                fingerprint = fingerprint.model_copy(update={"reworded": again})
    except psycopg.Error as exc:
        raise BackupError(f"{database.target}: fingerprinting failed: {exc}") from None
    return fingerprint


@contextmanager
def restored_copy(
    dump: Path,
    globals_sql: Path | None,
    name: str,
    timeout: float,
    backup: DatabaseFingerprint | None = None,
) -> Iterator[RestoredCopy]:
    """``dump`` (and its roles) restored as database ``name`` in a new scratch cluster, with
    the restore's fingerprint (ready to compare with ``backup``'s, see ``fingerprint_of``); the
    cluster is removed when the block ends."""
    with scratch_cluster(timeout) as cluster:
        started = time.monotonic()
        server = cluster.database()
        if globals_sql is not None:
            restore_globals(globals_sql, server, timeout)
        try:
            restore_dump(dump, server, name, timeout)
        except BackupError as error:
            hint = older_tool_hint(backup.server_version) if backup else ""
            if not hint:
                raise
            raise BackupError(f"{str(error).rstrip('; ')}; {hint}") from None
        restored = time.monotonic()
        database = cluster.database(name)
        fingerprint = fingerprint_of(database, timeout, backup)
        yield RestoredCopy(database, fingerprint, restored - started, time.monotonic() - restored)
