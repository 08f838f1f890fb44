"""What a database looked like inside one snapshot: rows and content hash per table, schema,
grants and roles. Taken the same way from the source (inside the snapshot pg_dump reads) and
from the restore, so the two can be compared line by line; the definitions in those lines are
kept too, because a restoring server may word them differently (``reword.py``)."""

from datetime import datetime
from typing import Literal

import psycopg
from psycopg import sql
from pydantic import AwareDatetime, BaseModel, ConfigDict

from opsproof.backup.postgres.catalog import (
    DEFINITIONS,
    GRANTS,
    ROLES,
    SCHEMA,
    SESSION_SETTINGS,
    TABLE_PRINT,
    TABLES,
)
from opsproof.errors import BackupError

HASH_SPACE = 1 << 64
MD5_LENGTH = 32


class TablePrint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rows: int
    digest: str
    hashed: Literal["record", "text"]
    """How the rows were hashed (see ``catalog.TABLE_PRINT``); both sides must agree."""


DefinitionKind = Literal[
    "check", "default", "generated", "index", "unique index", "view", "trigger"
]


class Definition(BaseModel):
    """A definition PostgreSQL words itself, kept so that another server can parse it again
    (``reword.py``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DefinitionKind
    table_schema: str
    table: str
    """The table (or view) it belongs to."""
    target: str
    """The column, constraint, index or view name, unquoted."""
    text: str
    """As printed by pg_get_expr, pg_get_constraintdef, pg_get_viewdef, or what follows
    ``USING`` in pg_get_indexdef or the name in pg_get_triggerdef; its line ends with it (a
    view's line with its md5)."""

    def head(self, line: str) -> str:
        """``line`` without this definition: what a replay's wording is appended to."""
        return line[: len(line) - (MD5_LENGTH if self.kind == "view" else len(self.text))]


class DatabaseFingerprint(BaseModel):
    """Stored beside the dump as ``….dump.fingerprint.json``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database: str
    taken_at: AwareDatetime
    server_version: str
    snapshot: str | None = None
    """The exported snapshot pg_dump read (source side only)."""
    tables: dict[str, TablePrint]
    objects: list[str]
    """Columns, constraints, indexes, views, sequences, functions, triggers, types, schemas."""
    grants: list[str]
    roles: list[str]
    definitions: dict[str, Definition] = {}
    """Line of ``objects`` → its definition, for the lines a restore may word differently
    (absent from fingerprints taken before opsproof kept them)."""
    reworded: dict[str, str] = {}
    """Restore side only: each line of the backup's ``objects`` that this database lacks, as
    this server words its definition (``reword.py``); empty when none could be replayed."""

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables.values())


def begin_snapshot(conn: psycopg.Connection[tuple[object, ...]], timeout: float) -> None:
    """Open the read-only REPEATABLE READ transaction every query of a fingerprint runs in, with
    output settings pinned and statements bounded by ``timeout``."""
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    pin_settings(conn, timeout)


def pin_settings(conn: psycopg.Connection[tuple[object, ...]], timeout: float) -> None:
    """Pin output settings and bound statements by ``timeout``, for the open transaction:
    values print (and literals parse) the same on every server."""
    settings = {**SESSION_SETTINGS, "statement_timeout": str(max(1, int(timeout * 1000)))}
    for name, value in settings.items():
        conn.execute("SELECT set_config(%s, %s, true)", (name, value))


def _lines(conn: psycopg.Connection[tuple[object, ...]], query: str) -> list[str]:
    return [str(row[0]) for row in conn.execute(query).fetchall()]


def table_print(
    conn: psycopg.Connection[tuple[object, ...]], schema: str, table: str
) -> TablePrint:
    for hashed in ("record", "text"):
        query = sql.SQL(TABLE_PRINT[hashed]).format(table=sql.Identifier(schema, table))
        try:
            with conn.transaction():  # a savepoint: a refused hash leaves the snapshot usable
                count, total = conn.execute(query).fetchone() or (0, 0)
        except psycopg.errors.UndefinedFunction:
            continue  # a column type without an extended hash function: hash the text form
        digest = f"{int(str(total)) % HASH_SPACE:016x}"
        return TablePrint(rows=int(str(count)), digest=digest, hashed=hashed)
    raise BackupError(f"{schema}.{table}: its rows cannot be hashed")


def _definitions(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, Definition]:
    found = {}
    for line, kind, schema, table, target, text, printed in conn.execute(DEFINITIONS):
        definition = Definition.model_validate(
            {"kind": kind, "table_schema": schema, "table": table, "target": target, "text": text}
        )
        if definition.head(str(line)) + str(printed) == line:  # else no replay rebuilds it
            found[str(line)] = definition
    return found


def capture(
    conn: psycopg.Connection[tuple[object, ...]], taken_at: datetime, snapshot: str | None = None
) -> DatabaseFingerprint:
    """Fingerprint the database ``conn`` is connected to, inside the transaction opened by
    ``begin_snapshot``."""
    tables = {
        str(name): table_print(conn, str(schema), str(table))
        for name, schema, table in conn.execute(TABLES).fetchall()
    }
    version = conn.execute("SELECT current_setting('server_version'), current_database()")
    server_version, database = version.fetchone() or ("", "")
    return DatabaseFingerprint(
        database=str(database),
        taken_at=taken_at,
        server_version=str(server_version),
        snapshot=snapshot,
        tables=tables,
        objects=_lines(conn, SCHEMA),
        grants=_lines(conn, GRANTS),
        roles=_lines(conn, ROLES),
        definitions=_definitions(conn),
    )
