"""An ORM-built schema (SQLAlchemy's DDL: varchar + CHECK IN, enum, partial index, view with
IN, ON DELETE CASCADE, a computed column, a trigger with WHEN) against real clusters.
PostgreSQL words its CHECK, partial index, view, generation expression and trigger WHEN
differently after pg_dump | pg_restore; a correct restore must still pass (issue #12), and a
changed or dropped definition must still fail, naming the object."""

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from opsproof.backup.artifacts.checks import restores
from opsproof.backup.postgres.compare import every_check, lines_restored
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.dump import PostgresBackup
from opsproof.backup.postgres.fingerprint import DatabaseFingerprint, Definition
from opsproof.backup.postgres.reword import reworded
from opsproof.backup.postgres.scratch import scratch_cluster
from opsproof.backup.postgres.verify import RestoredCopy, fingerprint_of
from opsproof.backup.session import DrSession
from opsproof.backup.targets import PostgresSource

TIMEOUT = 60.0

ORM = """
CREATE TYPE priority AS ENUM ('low', 'normal', 'high');
CREATE TABLE accounts (
    id SERIAL NOT NULL,
    name VARCHAR(80) NOT NULL,
    PRIMARY KEY (id)
);
CREATE TABLE jobs (
    id SERIAL NOT NULL,
    account_id INTEGER NOT NULL,
    status VARCHAR(7) DEFAULT 'pending' NOT NULL,
    queue VARCHAR(20) DEFAULT 'default'::character varying NOT NULL,
    priority priority DEFAULT 'normal' NOT NULL,
    is_final BOOLEAN GENERATED ALWAYS AS (status IN ('done', 'failed')) STORED,
    PRIMARY KEY (id),
    CONSTRAINT job_status CHECK (status IN ('pending', 'done', 'failed')),
    FOREIGN KEY(account_id) REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE INDEX ix_jobs_open ON jobs (account_id) WHERE status IN ('pending', 'failed');
CREATE VIEW open_jobs AS SELECT id, account_id, status FROM jobs
    WHERE status IN ('pending', 'failed');
CREATE FUNCTION jobs_touch() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN NEW.queue := NEW.queue; RETURN NEW; END $$;
CREATE TRIGGER jobs_finished BEFORE UPDATE OF status ON jobs FOR EACH ROW
    WHEN (NEW.status IN ('done', 'failed')) EXECUTE FUNCTION jobs_touch();
INSERT INTO accounts (name) SELECT 'account ' || g FROM generate_series(1, 20) g;
INSERT INTO jobs (account_id, status)
    SELECT 1 + g % 20, (ARRAY['pending', 'done', 'failed'])[1 + g % 3]
    FROM generate_series(1, 500) g;
"""
REWORDED = {
    "constraint public.jobs job_status",
    "index CREATE INDEX ix_jobs_open",
    "view public.open_jobs",
    "column public.jobs #6 is_final",
    "trigger CREATE TRIGGER jobs_finished",
}
"""The lines PostgreSQL 15 words differently after a restore (defaults keep their wording)."""


@pytest.fixture(scope="module")
def orm() -> Iterator[PostgresSource]:
    with scratch_cluster(TIMEOUT) as cluster:
        with cluster.database().connect() as conn:
            conn.execute("CREATE DATABASE app")
        database = cluster.database("app")
        with database.connect() as conn:
            conn.execute(ORM)
        yield PostgresSource("postgres://app", "app", None, None, database)


@pytest.fixture(scope="module")
def session(orm: PostgresSource, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrSession]:
    dr = DrSession(tmp_path_factory.mktemp("store"), TIMEOUT)
    yield dr
    dr.close()


@pytest.fixture(scope="module")
def backup(session: DrSession, orm: PostgresSource) -> PostgresBackup:
    return session.postgres_backup(orm).get()


@pytest.fixture(scope="module")
def copy(session: DrSession, orm: PostgresSource) -> RestoredCopy:
    return session.postgres_restore(orm).get()


def _starts(lines: set[str]) -> set[str]:
    return {prefix for prefix in REWORDED for line in lines if line.startswith(prefix)}


def test_orm_schema_restore_passes_in_the_dr_session(
    backup: PostgresBackup, copy: RestoredCopy
) -> None:
    source, restored = set(backup.fingerprint.objects), set(copy.fingerprint.objects)
    # the premise: these five are worded differently
    assert _starts(source - restored) == REWORDED, sorted(source ^ restored)
    checks = every_check(backup.fingerprint, copy.fingerprint)
    assert all(c.ok for c in checks), [c.reason for c in checks if not c.ok]
    schema = checks[-3]
    assert "5 worded differently by this server" in schema.reason
    assert schema.figures["schema_lines_reworded"].value == 5


def test_orm_schema_restore_passes_as_an_existing_backup(backup: PostgresBackup) -> None:
    result = restores("pg-dump", str(backup.dump.parent / "*.dump"), TIMEOUT, required=True)
    assert result.ok, result.reason
    assert "compared with its fingerprint" in result.reason


def test_defaults_and_enums_keep_their_wording(backup: PostgresBackup, copy: RestoredCopy) -> None:
    restored = set(copy.fingerprint.objects)
    for line in (
        "column public.jobs #3 status character varying(7) NOT NULL DEFAULT "
        "'pending'::character varying",
        "column public.jobs #5 priority priority NOT NULL DEFAULT 'normal'::priority",
        "constraint public.jobs jobs_account_id_fkey FOREIGN KEY (account_id) REFERENCES "
        "accounts(id) ON DELETE CASCADE",
        "type public.priority 'low','normal','high'",
    ):
        assert line in backup.fingerprint.objects
        assert line in restored


@pytest.fixture
def changed(copy: RestoredCopy) -> Iterator[Database]:
    """A fresh copy of the restored database (CREATE DATABASE … TEMPLATE), for one change."""
    server = copy.database.with_name("template1")
    name = sql.Identifier("changed")
    with server.connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(name, sql.Identifier("app")))
    yield copy.database.with_name("changed")
    with server.connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE {}").format(name))


def _schema_after(change: str, database: Database, backup: DatabaseFingerprint) -> str | None:
    """The schema verdict's reason after ``change``, or None when it passes."""
    if change:
        with database.connect() as conn:
            conn.execute(change)
    after = fingerprint_of(database, TIMEOUT, backup)
    result = lines_restored("schema", "app", backup.objects, after.objects, reworded=after.reworded)
    return None if result.ok else result.reason


def test_an_unchanged_copy_passes(changed: Database, backup: PostgresBackup) -> None:
    assert _schema_after("", changed, backup.fingerprint) is None


@pytest.mark.parametrize(
    ("change", "named"),
    [
        pytest.param(
            "ALTER TABLE jobs DROP CONSTRAINT job_status,"
            " ADD CONSTRAINT job_status CHECK (status IN ('pending', 'done', 'failed', 'new'))",
            "constraint public.jobs job_status",
            id="check-other-values",
        ),
        pytest.param(
            "UPDATE jobs SET queue = status; ALTER TABLE jobs DROP CONSTRAINT job_status,"
            " ADD CONSTRAINT job_status CHECK (queue IN ('pending', 'done', 'failed'))",
            "constraint public.jobs job_status",
            id="check-other-column",
        ),
        pytest.param(
            "ALTER TABLE jobs DROP CONSTRAINT job_status",
            "constraint public.jobs job_status",
            id="check-dropped",
        ),
        pytest.param(
            "DROP INDEX ix_jobs_open; CREATE INDEX ix_jobs_open ON jobs (account_id)"
            " WHERE status IN ('pending')",
            "index CREATE INDEX ix_jobs_open",
            id="index-other-predicate",
        ),
        pytest.param(
            "CREATE OR REPLACE VIEW open_jobs AS SELECT id, account_id, status FROM jobs"
            " WHERE status IN ('failed', 'pending')",
            "view public.open_jobs",
            id="view-other-order",
        ),
        pytest.param(
            "ALTER TABLE jobs DROP COLUMN is_final, ADD COLUMN is_final BOOLEAN"
            " GENERATED ALWAYS AS (status IN ('done')) STORED",
            "column public.jobs #6 is_final",
            id="generated-other-values",
        ),
        pytest.param(
            "DROP TRIGGER jobs_finished ON jobs; CREATE TRIGGER jobs_finished BEFORE UPDATE OF"
            " status ON jobs FOR EACH ROW WHEN (NEW.status IN ('done'))"
            " EXECUTE FUNCTION jobs_touch()",
            "trigger CREATE TRIGGER jobs_finished",
            id="trigger-other-when",
        ),
        pytest.param(
            "ALTER TABLE jobs ALTER COLUMN status SET DEFAULT 'queued'",
            "column public.jobs #3 status",
            id="default-other-value",
        ),
    ],
)
def test_a_changed_definition_fails_naming_it(
    change: str, named: str, changed: Database, backup: PostgresBackup
) -> None:
    reason = _schema_after(change, changed, backup.fingerprint)
    assert reason is not None, f"{change!r} passed"
    missing = reason.split("missing or different (", 1)[1]
    assert missing.startswith(named), reason


def test_a_replay_leaves_nothing_behind(copy: RestoredCopy, backup: PostgresBackup) -> None:
    with copy.database.connect() as conn:
        found = reworded(conn, backup.fingerprint, [], TIMEOUT)  # replay every definition
        left = conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE 'opsproof%'")
        assert left.fetchone() == (0,)
    assert set(found) == set(backup.fingerprint.definitions)
    assert fingerprint_of(copy.database, TIMEOUT).objects == copy.fingerprint.objects


def test_a_definition_holding_a_second_statement_is_refused(
    copy: RestoredCopy, backup: PostgresBackup
) -> None:
    line = "constraint public.jobs job_status CHECK (true)"
    smuggled = Definition(
        kind="check",
        table_schema="public",
        table="jobs",
        target="job_status",
        text="CHECK (true); COMMIT; CREATE TABLE public.smuggled (i int)",
    )
    forged = backup.fingerprint.model_copy(
        update={"objects": [line], "definitions": {line: smuggled}}
    )
    with copy.database.connect() as conn:
        assert reworded(conn, forged, [], TIMEOUT) == {}
        created = conn.execute("SELECT to_regclass('public.smuggled')").fetchone()
    assert created == (None,)


def test_a_refused_definition_only_differs(copy: RestoredCopy, backup: PostgresBackup) -> None:
    line = "constraint public.jobs job_status CHECK ((nosuchcolumn > 0))"
    broken = Definition(
        kind="check", table_schema="public", table="jobs", target="job_status", text=line[35:]
    )
    forged = backup.fingerprint.model_copy(update={"definitions": {line: broken}})
    with copy.database.connect() as conn:
        assert reworded(conn, forged, copy.fingerprint.objects, TIMEOUT) == {}
        conn.execute("SELECT 1")  # the connection is still usable


def test_fingerprints_stored_before_definitions_still_load(backup: PostgresBackup) -> None:
    old = backup.fingerprint.model_dump(mode="json", exclude={"definitions", "reworded"})
    loaded = DatabaseFingerprint.model_validate(old)
    assert loaded.definitions == {} and loaded.objects == backup.fingerprint.objects


def test_reworded_lines_match_either_form() -> None:
    expected, actual = ["a CHECK (x)", "b"], ["a CHECK ((x))", "b"]
    assert not lines_restored("schema", "db", expected, actual).ok
    same = lines_restored("schema", "db", expected, actual, reworded={"a CHECK (x)": actual[0]})
    assert same.ok and same.figures["schema_lines_reworded"].value == 1
    other = lines_restored("schema", "db", expected, actual, reworded={"a CHECK (x)": "a (y)"})
    assert not other.ok
    assert "missing or different (a CHECK (x))" in other.reason
    assert "unexpected (a CHECK ((x)))" in other.reason


def test_psycopg_refuses_two_statements_when_results_are_binary(copy: RestoredCopy) -> None:
    """What the replay's safety rests on."""
    with copy.database.connect() as conn, pytest.raises(psycopg.errors.SyntaxError):
        conn.execute("SELECT 1; SELECT 2", binary=True)
