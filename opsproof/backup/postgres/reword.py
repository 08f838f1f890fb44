"""Judge a definition the restore words differently by its meaning, not by its text.

PostgreSQL keeps a constraint, default, index, view or trigger as a parsed tree and prints it
on demand (pg_get_constraintdef and friends). The print does not survive a dump and restore:
pg_dump writes the printed text, the restoring server parses that text into a different tree
and prints that differently. SQLAlchemy's ``CHECK (status IN ('pending', 'done'))`` on a
varchar column prints as ``(status)::text = ANY ((ARRAY['pending'::character varying,
…])::text[])`` and comes back as ``(status)::text = ANY (ARRAY[('pending'::character
varying)::text, …])``; partial indexes, views, generated columns and trigger WHEN clauses with
IN lists do the same. Comparing text fails every correct restore of most ORM-built schemas.

So a line of the backup's fingerprint that the restore lacks is replayed: its definition (a
check constraint, a default or generation expression, an index, a view, a trigger), exactly as
the source printed it and pg_dump wrote it, is parsed by the restoring server on a temporary
copy of its table and printed back. If that reads like the restore's own line, the restore
holds what this server makes of the source's definition: the same meaning. Other values,
another column, a dropped constraint still differ.

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

from collections.abc import Callable, Collection

import psycopg
from psycopg import sql

from opsproof.backup.postgres.fingerprint import (
    DatabaseFingerprint,
    Definition,
    DefinitionKind,
    pin_settings,
)

Connection = psycopg.Connection[tuple[object, ...]]

COPY = "opsproof_replay"
INDEX = "opsproof_replay_index"
VIEW = "opsproof_replay_view"
TRIGGER = "opsproof_replay_trigger"


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


def _run(conn: Connection, statement: sql.SQL | sql.Composed) -> None:
    conn.execute(statement, binary=True)  # binary results force the one-statement protocol


def _one(conn: Connection, query: str, *params: str) -> str:
    row = conn.execute(query, params).fetchone()
    if row is None or row[0] is None:
        raise psycopg.DataError(f"replay left nothing to print: {query}")
    return str(row[0])


def _copy(conn: Connection, definition: Definition) -> sql.Identifier:
    """An empty temporary table with the columns (names, types, collations) of the
    definition's table: where its definition is parsed again."""
    source = sql.Identifier(definition.table_schema, definition.table)
    _run(conn, sql.SQL("CREATE TEMP TABLE {} (LIKE {})").format(sql.Identifier(COPY), source))
    return sql.Identifier("pg_temp", COPY)


def _check(conn: Connection, definition: Definition) -> str:
    copy, name = _copy(conn, definition), sql.Identifier(definition.target)
    _run(conn, sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(copy, name) + _text(definition))
    return _one(
        conn,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND conname = %s",
        f"pg_temp.{COPY}",
        definition.target,
    )


def _column_expression(conn: Connection, definition: Definition) -> str:
    """A default, or a generated column's expression (LIKE copies neither)."""
    copy, column = _copy(conn, definition), sql.Identifier(definition.target)
    if definition.kind == "default":
        alter = sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT ").format(copy, column)
        _run(conn, alter + _text(definition))
    else:
        column_type = _one(
            conn,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attname = %s",
            f"pg_temp.{COPY}",
            definition.target,
        )
        _run(conn, sql.SQL("ALTER TABLE {} DROP COLUMN {}").format(copy, column))
        add = sql.SQL("ALTER TABLE {} ADD COLUMN {} {} GENERATED ALWAYS AS (").format(
            copy, column, sql.SQL(column_type)
        )
        _run(conn, add + _text(definition) + sql.SQL(") STORED"))
    return _one(
        conn,
        "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
        " JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum"
        " WHERE d.adrelid = %s::regclass AND a.attname = %s",
        f"pg_temp.{COPY}",
        definition.target,
    )


def _index(conn: Connection, definition: Definition) -> str:
    copy = _copy(conn, definition)
    unique = sql.SQL("UNIQUE " if definition.kind == "unique index" else "")
    create = sql.SQL("CREATE {}INDEX {} ON {} USING ").format(unique, sql.Identifier(INDEX), copy)
    _run(conn, create + _text(definition))
    printed = _one(conn, "SELECT pg_get_indexdef(%s::regclass)", f"pg_temp.{INDEX}")
    return printed.split(" USING ", 1)[1]  # our names hold no space: the first is the keyword


def _view(conn: Connection, definition: Definition) -> str:
    body = sql.SQL(definition.text.rstrip().removesuffix(";"))
    _run(conn, sql.SQL("CREATE TEMP VIEW {} AS ").format(sql.Identifier(VIEW)) + body)
    return _one(conn, "SELECT md5(pg_get_viewdef(%s::regclass))", f"pg_temp.{VIEW}")


def _trigger(conn: Connection, definition: Definition) -> str:
    """Events, WHEN clause and function parsed again on the copy, then printed with the
    real table's name back in place."""
    _copy(conn, definition)
    table = _one(
        conn,
        "SELECT format(' ON %%I.%%I ', %s::text, %s::text)",
        definition.table_schema,
        definition.table,
    )
    if table not in definition.text:  # never on the real table
        raise psycopg.DataError(f"{definition.target}: no{table}in its definition")
    on_copy = f" ON pg_temp.{COPY} "
    head = f"CREATE TRIGGER {TRIGGER} "
    _run(conn, sql.SQL(head + definition.text.replace(table, on_copy, 1)))
    printed = _one(
        conn,
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s::regclass"
        " AND tgname = %s",
        f"pg_temp.{COPY}",
        TRIGGER,
    )
    return printed.removeprefix(head).replace(on_copy, table, 1)


def _text(definition: Definition) -> sql.SQL:
    return sql.SQL(definition.text)  # the source's own wording, parsed by this server


REPLAYS: dict[DefinitionKind, Callable[[Connection, Definition], str]] = {
    "check": _check,
    "default": _column_expression,
    "generated": _column_expression,
    "index": _index,
    "unique index": _index,
    "view": _view,
    "trigger": _trigger,
}


def _replay(conn: Connection, definition: Definition) -> str:
    return REPLAYS[definition.kind](conn, definition)
