"""PostgreSQL: a dump of a pinned snapshot, intact, restored on a scratch cluster with the same
rows in every table (one item per table), the same schema, grants and roles, and sound pages."""

import pytest

from opsproof.backup.postgres.amcheck import amcheck
from opsproof.backup.postgres.compare import lines_restored, table_restored, tables_restored
from opsproof.backup.postgres.integrity import dump_readable
from opsproof.backup.postgres.versions import tool_version
from opsproof.backup.redis.integrity import checksum_matches
from opsproof.backup.session import DrSession
from opsproof.backup.targets import PostgresSource, TableTarget, postgres_sources
from opsproof.backup.verdicts import all_of
from opsproof.config.loader import LoadedEnvironment
from opsproof.probes.result import Figure, Observation
from opsproof.verify import Verifier

pytestmark = [
    pytest.mark.control("SOC2:A1.2", "ISO27001:A.8.13", "NIST800-53:CP-9"),
    pytest.mark.severity("high"),
]


def test_postgres_backup_taken(
    postgres_source: PostgresSource, dr_session: DrSession, verify: Verifier
) -> None:
    """A dump is taken from an exported snapshot, fingerprinted inside that same snapshot."""
    backup = dr_session.postgres_backup(postgres_source).get()
    fingerprint = backup.fingerprint
    tool, host = tool_version(), postgres_source.on_host
    here = f"pg_dump {'.'.join(map(str, tool)) if tool else '(version unknown)'} here"
    figures = {
        "tables": Figure(len(fingerprint.tables)),
        "rows": Figure(fingerprint.rows),
        "dump_bytes": Figure(backup.dump.stat().st_size, "bytes"),
        "backup_s": Figure(round(backup.duration_s, 3), "s"),
        "server_version": Figure(fingerprint.server_version.split(" ")[0]),
        "dumped_by": Figure(f"the pg_dump of host {host.host_name}" if host else here),
    }
    reason = (
        f"{backup.dump}: {len(fingerprint.tables)} tables, {fingerprint.rows} rows, snapshot "
        f"{fingerprint.snapshot}"
    )
    verify(lambda: Observation(True, postgres_source.database.target, reason, figures))


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_postgres_dump_intact(
    postgres_source: PostgresSource, dr_session: DrSession, verify: Verifier
) -> None:
    """The dump matches its recorded sha256 and pg_restore reads every entry."""
    backup = dr_session.postgres_backup(postgres_source).get()
    parts = [checksum_matches(backup.dump), dump_readable(backup.dump, dr_session.timeout)]
    verify(lambda: all_of(str(backup.dump), parts, f"{backup.dump}: intact"))


@pytest.mark.control("SOC2:A1.3", "NIST800-53:CP-9(1)")
def test_postgres_restores(
    postgres_source: PostgresSource, dr_session: DrSession, verify: Verifier
) -> None:
    """Roles and the dump restore on a scratch cluster with pg_restore --exit-on-error."""
    copy = dr_session.postgres_restore(postgres_source).get()
    figures = {"restore_s": Figure(round(copy.restore_s, 3), "s")}
    reason = f"{copy.database.target}: restored in {copy.restore_s:.2f}s"
    verify(lambda: Observation(True, copy.database.target, reason, figures))


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_postgres_tables_restored(
    postgres_source: PostgresSource, dr_session: DrSession, verify: Verifier
) -> None:
    """The restore has exactly the snapshot's tables."""
    backup = dr_session.postgres_backup(postgres_source).get()
    copy = dr_session.postgres_restore(postgres_source).get()
    verify(lambda: tables_restored(backup.fingerprint, copy.fingerprint))


def _source(ops_environment: LoadedEnvironment, name: str) -> PostgresSource:
    return next(s for s in postgres_sources(ops_environment.environment) if s.name == name)


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_postgres_table_restored(
    postgres_table: TableTarget,
    ops_environment: LoadedEnvironment,
    dr_session: DrSession,
    verify: Verifier,
) -> None:
    """The table has its rows of the snapshot, with the same content."""
    if postgres_table.problem:
        pytest.fail(postgres_table.problem, pytrace=False)
    source = _source(ops_environment, postgres_table.source)
    backup = dr_session.postgres_backup(source).get()
    copy = dr_session.postgres_restore(source).get()
    verify(lambda: table_restored(postgres_table.table, backup.fingerprint, copy.fingerprint))


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_postgres_schema_restored(
    postgres_source: PostgresSource, dr_session: DrSession, verify: Verifier
) -> None:
    """Columns, constraints, indexes, views, sequences, functions and triggers as backed up;
    a definition the scratch server words differently passes if it parses to the same."""
    backup = dr_session.postgres_backup(postgres_source).get().fingerprint
    restored = dr_session.postgres_restore(postgres_source).get().fingerprint
    verify(
        lambda: lines_restored(
            "schema", backup.database, backup.objects, restored.objects, reworded=restored.reworded
        )
    )


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_postgres_grants_restored(
    postgres_source: PostgresSource, dr_session: DrSession, verify: Verifier
) -> None:
    """Owners and privileges of every object, the database's own included."""
    backup = dr_session.postgres_backup(postgres_source).get().fingerprint
    restored = dr_session.postgres_restore(postgres_source).get().fingerprint
    verify(lambda: lines_restored("grants", backup.database, backup.grants, restored.grants))


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_postgres_roles_restored(
    postgres_source: PostgresSource, dr_session: DrSession, verify: Verifier
) -> None:
    """Every role and membership of the source exists in the restore (passwords excepted)."""
    backup = dr_session.postgres_backup(postgres_source).get().fingerprint
    restored = dr_session.postgres_restore(postgres_source).get().fingerprint
    verify(
        lambda: lines_restored(
            "roles", backup.database, backup.roles, restored.roles, extra_allowed=True
        )
    )


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_postgres_amcheck(
    postgres_source: PostgresSource, dr_session: DrSession, verify: Verifier
) -> None:
    """pg_amcheck finds the restored heap pages and B-tree indexes sound."""
    copy = dr_session.postgres_restore(postgres_source).get()
    verify(lambda: amcheck(copy.database, dr_session.timeout))
