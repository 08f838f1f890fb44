"""Restore a dump and its globals into a cluster: roles first, then the database itself with
``pg_restore --create --exit-on-error`` (the first error stops it, so a broken dump fails loudly
instead of leaving a half-restored database that looks fine)."""

import os
import time
from pathlib import Path

import psycopg
from psycopg import sql

from opsproof.backup.postgres.database import Database
from opsproof.backup.tools import last_lines, postgres_tool, run
from opsproof.errors import BackupError

MAINTENANCE_DB = "template1"
"""pg_restore --create connects here to create the database; not "postgres", which may be the
very name being restored."""


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def restore_globals(globals_sql: Path, server: Database, timeout: float) -> None:
    """Run the globals script as a superuser. Roles that exist already (the bootstrap
    superuser, or every role on a server restored in place) are the only errors accepted."""
    args, env = server.tool_args()
    command = [postgres_tool("psql"), *args, "-X", "-q", "-v", "ON_ERROR_STOP=0"]
    output = run([*command, "-f", str(globals_sql)], timeout, env=env)
    errors = [
        line
        for line in output.stderr.splitlines()
        if "ERROR:" in line and "already exists" not in line
    ]
    if errors:
        raise BackupError(
            f"{globals_sql}: restoring roles failed: {last_lines(chr(10).join(errors))}"
        )


def _drop_if_present(server: Database, name: str) -> None:
    with server.with_name(MAINTENANCE_DB).connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def restore_dump(
    dump: Path, server: Database, name: str, timeout: float, jobs: int | None = None
) -> float:
    """Create database ``name`` on ``server`` (a superuser connection) from ``dump``; the seconds
    it took. An existing database of that name is dropped first: restore only to scratch, or to
    a server that is being rebuilt."""
    started = time.monotonic()
    try:
        _drop_if_present(server, name)
    except psycopg.Error as exc:
        raise BackupError(f"{server.target}: cannot prepare the restore: {exc}") from None
    args, env = server.with_name(MAINTENANCE_DB).tool_args()
    command = [
        postgres_tool("pg_restore"),
        *args,
        "--create",
        "--exit-on-error",
        "--no-password",
        f"--jobs={jobs or default_jobs()}",
        str(dump),
    ]
    run(command, timeout, env=env)
    return time.monotonic() - started
