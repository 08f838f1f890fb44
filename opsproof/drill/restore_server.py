"""Waiting for a restore's private PostgreSQL server, a process or a container alike: until it
accepts a connection, or at once when it exited, with its log's tail saying why."""

from collections.abc import Callable

import psycopg

from opsproof.backup.postgres.database import Database
from opsproof.errors import BackupError
from opsproof.support.waiting import poll

EXITED = "exited"


def await_restore_server(
    alive: Callable[[], bool], log: Callable[[], str], database: Database, where: str,
    timeout: float,
) -> None:  # fmt: skip
    """Until the restore's server accepts a connection; at once when it exited (its log's
    tail then says why). The server may be a process or a container: ``alive`` tells."""

    def state() -> str:
        if not alive():
            return EXITED
        try:
            with database.connect():
                return ""
        except psycopg.OperationalError as exc:
            return str(exc).strip()

    accepted, last = poll(state, lambda seen: seen in ("", EXITED), timeout)
    if last == EXITED:
        raise BackupError(f"{where}: the restore's server exited: {log()}")
    if not accepted:
        raise BackupError(f"{where}: the restore's server refuses connections: {last}")
