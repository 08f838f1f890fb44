"""PostgreSQL's one-time setup: data directory, application role and database, schema."""

import time
from pathlib import Path

import psycopg
from psycopg import sql

from opsproof.errors import StackError
from opsproof.stack.components import POSTGRES_DATABASE, POSTGRES_USER, Layout
from opsproof.support.waiting import poll


def _superuser(layout: Layout, port: int, dbname: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=str(layout.postgres_run),
        port=port,
        user="postgres",
        dbname=dbname,
        autocommit=True,
        connect_timeout=2,
    )


def _wait_accepting(layout: Layout, port: int, deadline: float) -> None:
    def refusal() -> str | None:
        try:
            with _superuser(layout, port, "postgres"):
                return None
        except psycopg.OperationalError as exc:
            return str(exc).strip()

    accepted, refused = poll(refusal, lambda reason: reason is None, deadline - time.monotonic())
    if not accepted:
        raise StackError(f"postgres: not accepting connections in time ({refused})")


def bootstrap(layout: Layout, port: int, password: str, schema: Path, deadline: float) -> None:
    """Wait until the server accepts connections, then create the application role and its
    database and apply ``schema`` as that role. The role may log in only once the schema
    exists: the service, already running, must never find a database without its tables."""
    _wait_accepting(layout, port, deadline)
    role, database = sql.Identifier(POSTGRES_USER), sql.Identifier(POSTGRES_DATABASE)
    with _superuser(layout, port, "postgres") as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} NOLOGIN PASSWORD {}").format(role, sql.Literal(password))
        )
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
    with _superuser(layout, port, POSTGRES_DATABASE) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(role))
        conn.execute(schema.read_text())
        conn.execute("RESET ROLE")
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(role))
