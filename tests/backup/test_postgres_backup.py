"""PostgreSQL backups against a real cluster: snapshot fingerprint, dump integrity, scratch
restore compared per table, schema, grants and roles, and the negative controls (a truncated
dump, a dump missing a table, one changed row, a lost grant)."""

from pathlib import Path

import pytest

from opsproof.backup.postgres.amcheck import amcheck
from opsproof.backup.postgres.compare import (
    every_check,
    lines_restored,
    table_restored,
    tables_restored,
)
from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.dump import PostgresBackup, back_up
from opsproof.backup.postgres.integrity import dump_readable
from opsproof.backup.postgres.verify import fingerprint_of, restored_copy
from opsproof.backup.tools import postgres_tool, run
from opsproof.errors import BackupError

TIMEOUT = 60.0
TABLES = ["public.customers", "public.events", "public.notes", "public.orders"]


@pytest.fixture(scope="module")
def backup(shop: Database, tmp_path_factory: pytest.TempPathFactory) -> PostgresBackup:
    return back_up(shop, "shop", tmp_path_factory.mktemp("store"), TIMEOUT)


def test_fingerprint_describes_the_snapshot(backup: PostgresBackup) -> None:
    fingerprint = backup.fingerprint
    assert sorted(fingerprint.tables) == TABLES
    assert fingerprint.tables["public.orders"].rows == 2000
    assert fingerprint.tables["public.events"].rows == 3
    assert fingerprint.tables["public.orders"].hashed == "record"
    assert fingerprint.tables["public.notes"].hashed == "text"
    assert fingerprint.snapshot
    objects = "\n".join(fingerprint.objects)
    for expected in (
        "view public.big_orders",
        "trigger CREATE TRIGGER orders_touch",
        "sequence public.orders_id_seq last_value 2000",
        "type public.mood 'happy','sad'",
        "index CREATE INDEX orders_customer_idx",
        "constraint public.orders orders_customer_fkey FOREIGN KEY (customer)",
    ):
        assert expected in objects
    assert any(
        line.startswith("grant table public.orders") and "reporting=r/" in line
        for line in fingerprint.grants
    )
    assert "member app of reporting" in fingerprint.roles


def test_backup_restores_identically(backup: PostgresBackup) -> None:
    assert dump_readable(backup.dump, TIMEOUT).ok
    with restored_copy(backup.dump, backup.globals_sql, "shop", TIMEOUT) as copy:
        checks = every_check(backup.fingerprint, copy.fingerprint)
        assert [c.target for c in checks] == ["shop", *TABLES, "shop", "shop", "shop"]
        assert all(c.ok for c in checks), [c.reason for c in checks if not c.ok]
        sound = amcheck(copy.database, TIMEOUT)
        assert sound.ok, sound.reason


def test_truncated_dump_fails_integrity_and_restore(backup: PostgresBackup, tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(backup.dump.read_bytes()[: backup.dump.stat().st_size // 2])
    readable = dump_readable(truncated, TIMEOUT)
    assert not readable.ok
    assert "unreadable archive" in readable.reason and "pg_restore failed" in readable.reason
    with (
        pytest.raises(BackupError, match="pg_restore failed"),
        restored_copy(truncated, backup.globals_sql, "shop", TIMEOUT),
    ):
        pass


def test_dump_missing_a_table_is_named(
    backup: PostgresBackup, shop: Database, tmp_path: Path
) -> None:
    partial = tmp_path / "partial.dump"
    args, env = shop.tool_args()
    run(
        [postgres_tool("pg_dump"), *args, "-Fc", "-T", "public.events", "-f", str(partial)],
        TIMEOUT,
        env=env,
    )
    with restored_copy(partial, backup.globals_sql, "shop", TIMEOUT) as copy:
        present = tables_restored(backup.fingerprint, copy.fingerprint)
        missing = table_restored("public.events", backup.fingerprint, copy.fingerprint)
        kept = table_restored("public.orders", backup.fingerprint, copy.fingerprint)
    assert not present.ok
    assert "1 missing (public.events)" in present.reason
    assert not missing.ok
    assert missing.reason == "public.events: in the snapshot (3 rows) but missing from the restore"
    assert kept.ok


def test_one_changed_row_and_a_lost_grant_are_named(backup: PostgresBackup) -> None:
    with restored_copy(backup.dump, backup.globals_sql, "shop", TIMEOUT) as copy:
        with copy.database.connect() as conn:
            conn.execute("UPDATE orders SET total = total + 0.01 WHERE id = 1234")
            conn.execute("REVOKE SELECT ON orders FROM reporting")
        after = fingerprint_of(copy.database, TIMEOUT)
    changed = table_restored("public.orders", backup.fingerprint, after)
    assert not changed.ok
    assert changed.reason.startswith(
        "public.orders: 2000 rows as at the snapshot, but their content"
    )
    assert "at least one row changed" in changed.reason
    assert table_restored("public.customers", backup.fingerprint, after).ok
    grants = lines_restored("grants", "shop", backup.fingerprint.grants, after.grants)
    assert not grants.ok
    assert "grant table public.orders" in grants.reason and "reporting=r/" in grants.reason
