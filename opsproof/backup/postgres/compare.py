"""Compare a restored database's fingerprint with the one taken at backup time; every
verdict names the table, object, grant or role that differs. Schema lines the restoring server
words differently count as equal when they mean the same (``reword.py``)."""

from collections.abc import Mapping

from opsproof.backup.postgres.fingerprint import DatabaseFingerprint
from opsproof.probes.result import Figure, Observation

NAMES_SHOWN = 10


def _listed(label: str, items: list[str]) -> str:
    shown = "; ".join(items[:NAMES_SHOWN])
    more = f"; … {len(items) - NAMES_SHOWN} more" if len(items) > NAMES_SHOWN else ""
    return f"{len(items)} {label} ({shown}{more})"


def table_restored(
    table: str, backup: DatabaseFingerprint, restored: DatabaseFingerprint
) -> Observation:
    """Table ``table`` has the rows it had at the snapshot, with the same content."""
    want, got = backup.tables.get(table), restored.tables.get(table)
    if want is None:
        known = ", ".join(sorted(backup.tables)) or "none"
        reason = f"{table}: not in the database at the snapshot (tables then: {known})"
        return Observation(False, table, reason)
    figures = {"rows_at_snapshot": Figure(want.rows)}
    if got is None:
        reason = f"{table}: in the snapshot ({want.rows} rows) but missing from the restore"
        return Observation(False, table, reason, figures)
    figures["rows_restored"] = Figure(got.rows, target=f"== {want.rows}")
    if got.rows != want.rows:
        reason = f"{table}: {got.rows} rows restored, {want.rows} at the snapshot"
        return Observation(False, table, reason, figures)
    if got.hashed != want.hashed:
        reason = (
            f"{table}: rows hashed as {got.hashed} here, {want.hashed} at the snapshot: its "
            "column types differ"
        )
        return Observation(False, table, reason, figures)
    if got.digest != want.digest:
        reason = (
            f"{table}: {got.rows} rows as at the snapshot, but their content differs (hash "
            f"{got.digest[:12]}…, expected {want.digest[:12]}…): at least one row changed"
        )
        return Observation(False, table, reason, figures)
    return Observation(True, table, f"{table}: {got.rows} rows, content identical", figures)


def tables_restored(backup: DatabaseFingerprint, restored: DatabaseFingerprint) -> Observation:
    """The restore has exactly the snapshot's tables."""
    missing = sorted(set(backup.tables) - set(restored.tables))
    extra = sorted(set(restored.tables) - set(backup.tables))
    target = backup.database
    figures = {
        "tables_at_snapshot": Figure(len(backup.tables)),
        "tables_restored": Figure(len(restored.tables), target=f"== {len(backup.tables)}"),
    }
    problems = [
        _listed(label, names) for label, names in (("missing", missing), ("extra", extra)) if names
    ]
    if problems:
        reason = f"{target}: tables differ from the snapshot: {', '.join(problems)}"
        return Observation(False, target, reason, figures)
    reason = f"{target}: all {len(backup.tables)} tables of the snapshot restored"
    return Observation(True, target, reason, figures)


def lines_restored(
    what: str,
    target: str,
    expected: list[str],
    actual: list[str],
    *,
    extra_allowed: bool = False,
    reworded: Mapping[str, str] | None = None,
) -> Observation:
    """Catalogue lines (schema objects, grants, roles) match. ``extra_allowed``: the restore
    may hold more (a scratch cluster's own bootstrap roles). ``reworded``: an expected line →
    the same definition as the restoring server words it; either form matches."""
    reworded = reworded or {}
    present = set(actual)
    by_meaning = {line: reworded[line] for line in expected if reworded.get(line) in present}
    missing = sorted(set(expected) - present - set(by_meaning))
    accounted = set(expected) | set(by_meaning.values())
    extra = [] if extra_allowed else sorted(present - accounted)
    figures = {f"{what}_lines": Figure(len(expected))}
    if by_meaning:
        figures[f"{what}_lines_reworded"] = Figure(len(by_meaning))
    problems = [
        _listed(label, items)
        for label, items in (("missing or different", missing), ("unexpected", extra))
        if items
    ]
    if problems:
        reason = f"{target}: {what} differ from the snapshot: {', '.join(problems)}"
        return Observation(False, target, reason, figures)
    reason = f"{target}: {what} as at the snapshot"
    if by_meaning:
        reason += (
            f" ({len(by_meaning)} worded differently by this server; the snapshot's definitions"
            " parse to the same)"
        )
    return Observation(True, target, reason, figures)


def every_check(backup: DatabaseFingerprint, restored: DatabaseFingerprint) -> list[Observation]:
    """The table set, every table, schema, grants and roles, in that order."""
    name = backup.database
    return [
        tables_restored(backup, restored),
        *(table_restored(table, backup, restored) for table in sorted(backup.tables)),
        lines_restored(
            "schema", name, backup.objects, restored.objects, reworded=restored.reworded
        ),
        lines_restored("grants", name, backup.grants, restored.grants),
        lines_restored("roles", name, backup.roles, restored.roles, extra_allowed=True),
    ]
