"""Back up a database: pin a snapshot, fingerprint it and pg_dump it from the same snapshot.

The fingerprint is taken in the transaction that exported the snapshot, while pg_dump reads
that very snapshot (``--snapshot``), so both describe one instant without stopping writers.
Roles and other globals go beside the dump (``pg_dumpall --globals-only``; passwords are left
out, which also lets a non-superuser take them).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from opsproof.backup.on_host import OnHost
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.fingerprint import DatabaseFingerprint, begin_snapshot, capture
from opsproof.backup.postgres.host_dump import dump_on_host, server_place
from opsproof.backup.store import dated_path, write_checksum, write_fingerprint
from opsproof.backup.tools import postgres_tool, run
from opsproof.errors import BackupError

GLOBALS_SUFFIX = ".globals.sql"


@dataclass(frozen=True)
class PostgresBackup:
    source: str
    dump: Path
    globals_sql: Path
    sha256: str
    fingerprint: DatabaseFingerprint
    duration_s: float


def globals_path(dump: Path) -> Path:
    """Where the roles of a dump are kept: ``x.dump`` → ``x.globals.sql``."""
    return dump.with_suffix(GLOBALS_SUFFIX)


def _dump(database: Database, snapshot: str, target: Path, timeout: float) -> None:
    args, env = database.tool_args()
    command = [postgres_tool("pg_dump"), *args, "-Fc", f"--snapshot={snapshot}", "-f", str(target)]
    run(command, timeout, env=env)


def _dump_globals(database: Database, target: Path, timeout: float) -> None:
    args, env = database.tool_args()
    command = [postgres_tool("pg_dumpall"), *args, "--globals-only", "--no-role-passwords"]
    command += ["-f", str(target)]
    run(command, timeout, env=env)


def back_up(
    database: Database, name: str, store: Path, timeout: float, on_host: OnHost | None = None
) -> PostgresBackup:
    """Back up ``database`` into ``store`` as ``postgres-<name>-<UTC stamp>.dump`` with its
    globals, sha256 and fingerprint beside it; the dump is made by this machine's pg_dump, or
    by the one ``on_host``. Raises BackupError naming the failed step."""
    started = time.monotonic()
    taken_at = datetime.now(UTC)
    dump = dated_path(store, f"postgres-{name}", taken_at, ".dump")
    try:
        with database.connect() as conn, ThreadPoolExecutor(max_workers=1) as pool:
            place = server_place(conn, database.target) if on_host else None
            begin_snapshot(conn, timeout)
            row = conn.execute("SELECT pg_export_snapshot()").fetchone()
            snapshot = str(row[0]) if row else ""
            # pg_dump reads the exported snapshot while this transaction, which must stay
            # open until it is done, fingerprints the same snapshot.
            if on_host is None or place is None:
                dumping = pool.submit(_dump, database, snapshot, dump, timeout)
            else:
                deadline = started + timeout
                dumping = pool.submit(
                    dump_on_host, on_host, place, snapshot, dump, deadline, database.target
                )
            fingerprint = capture(conn, taken_at, snapshot)
            dumping.result(timeout=max(1.0, started + timeout - time.monotonic()))
            conn.execute("COMMIT")
    except psycopg.Error as exc:
        raise BackupError(f"{database.target}: {str(exc).strip()}") from None
    _dump_globals(database, globals_path(dump), timeout)
    write_checksum(globals_path(dump))
    sha256 = write_checksum(dump)
    write_fingerprint(dump, fingerprint)
    return PostgresBackup(
        name, dump, globals_path(dump), sha256, fingerprint, time.monotonic() - started
    )
