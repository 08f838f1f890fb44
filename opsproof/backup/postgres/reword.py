"""Judge a definition the restore words differently by its meaning, not by its text.

PostgreSQL keeps a constraint, default, index or view as a parsed tree and prints it on demand
(pg_get_constraintdef and friends). The print does not survive a dump and restore: pg_dump
writes the printed text, the restoring server parses that text into a different tree and
prints that differently. SQLAlchemy's ``CHECK (status IN ('pending', 'done'))`` on a varchar
column prints as ``(status)::text = ANY ((ARRAY['pending'::character varying, …])::text[])``
and comes back as ``(status)::text = ANY (ARRAY[('pending'::character varying)::text, …])``;
partial indexes and views with IN lists do the same. Comparing text fails every correct restore
of most ORM-built schemas.

So a line of the backup's fingerprint that the restore lacks is replayed: its definition,
exactly as the source printed it (and pg_dump wrote it), is parsed by the restoring server on a
temporary copy of its table and printed back. If that reads like the restore's own line, the
restore holds what this server makes of the source's definition: the same meaning. Other
values, another column, a dropped constraint still differ.

Why not normalise the text (drop casts, rewrite ``= ANY``): a second, partial parser of
PostgreSQL's grammar, for an open list of re-wordings that changes between versions, and each
rule risks calling two different expressions equal. Why not fingerprint the source through a
schema-only dump restored beside the copy: its definitions would come from the dump under
judgement, so a wrong definition would be compared with itself. The replay keeps the source's
catalogue as the witness, needs only the definitions in the fingerprint, and also absorbs
differences between server versions, since one server parses both sides.

Only lines that differ are replayed, each in a savepoint rolled back at once, inside a
transaction that is rolled back too; only on temporary copies (``CREATE TEMP TABLE … LIKE``,
a temporary view), never the real objects; over the extended protocol, so a definition that
smuggles in a second statement is refused, not run.
"""

from collections.abc import Collection

import psycopg
from psycopg import sql

from opsproof.backup.postgres.fingerprint import DatabaseFingerprint, Definition, pin_settings

Connection = psycopg.Connection[tuple[object, ...]]

COPY = "opsproof_replay"
INDEX = "opsproof_replay_index"
VIEW = "opsproof_replay_view"


def reworded(
    conn: Connection, backup: DatabaseFingerprint, objects: Collection[str], timeout: float
) -> dict[str, str]:
    """Each line of ``backup.objects`` missing from ``objects`` (this database's lines) whose
    definition the server behind ``conn`` accepts, as that server words it. Leaves nothing."""
    present = set(objects)
    pending = {line: d for line, d in backup.definitions.items() if line not in present}
    if not pending:
        return {}
    found: dict[str, str] = {}
    conn.execute("BEGIN")
    try:
        pin_settings(conn, timeout)
        for line, definition in pending.items():
            printed = _replayed(conn, definition)
            if printed is not None:
                found[line] = definition.head(line) + printed
    finally:
        conn.execute("ROLLBACK")
    return found


def _replayed(conn: Connection, definition: Definition) -> str | None:
    """The definition as this server prints it after parsing it; None when it refuses it
    (then the line simply differs)."""
    printed: str | None = None
    try:
        with conn.transaction() as savepoint:
            printed = _replay(conn, definition)
            raise psycopg.Rollback(savepoint)  # the copies go; the next replay reuses the names
    except psycopg.Error:
        return None
    return printed


def _run(conn: Connection, statement: sql.Composed) -> None:
    conn.execute(statement, binary=True)  # binary results force the one-statement protocol


def _one(conn: Connection, query: str, *params: str) -> str:
    row = conn.execute(query, params).fetchone()
    if row is None or row[0] is None:
        raise psycopg.DataError(f"replay left nothing to print: {query}")
    return str(row[0])


def _replay(conn: Connection, definition: Definition) -> str:
    text = sql.SQL(definition.text)  # the source's own wording, parsed by this server
    if definition.kind == "view":
        body = sql.SQL(definition.text.rstrip().removesuffix(";"))
        _run(conn, sql.SQL("CREATE TEMP VIEW {} AS ").format(sql.Identifier(VIEW)) + body)
        return _one(conn, "SELECT md5(pg_get_viewdef(%s::regclass))", f"pg_temp.{VIEW}")
    copy = sql.Identifier("pg_temp", COPY)
    source = sql.Identifier(definition.table_schema, definition.table)
    _run(conn, sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(sql.Identifier(COPY), source))
    target = sql.Identifier(definition.target)
    if definition.kind == "check":
        _run(conn, sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(copy, target) + text)
        return _one(
            conn,
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND conname = %s",
            f"pg_temp.{COPY}",
            definition.target,
        )
    if definition.kind == "default":
        _run(
            conn, sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT ").format(copy, target) + text
        )
        return _one(
            conn,
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
            " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
            " WHERE d.adrelid = %s::regclass AND a.attname = %s",
            f"pg_temp.{COPY}",
            definition.target,
        )
    unique = sql.SQL("UNIQUE " if definition.kind == "unique index" else "")
    create = sql.SQL("CREATE {}INDEX {} ON {} USING ").format(unique, sql.Identifier(INDEX), copy)
    _run(conn, create + text)
    printed = _one(conn, "SELECT pg_get_indexdef(%s::regclass)", f"pg_temp.{INDEX}")
    return printed.split(" USING ", 1)[1]  # our names hold no space: the first is the keyword
