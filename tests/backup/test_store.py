"""The backup store is private: created 0700, and an existing store others can read is refused
(never re-moded behind its owner's back), before any dump is written into it."""

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsproof.backup.store import dated_path, private_store
from opsproof.errors import BackupError


def test_a_new_store_is_created_private(tmp_path: Path) -> None:
    store = tmp_path / "deep" / "store"
    path = dated_path(store, "redis-cache", datetime(2026, 12, 6, tzinfo=UTC), ".rdb")
    assert path.name == "redis-cache-20261206T000000Z.rdb"
    assert stat.S_IMODE(store.stat().st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o755, 0o750, 0o701])
def test_an_existing_store_others_can_enter_is_refused_and_left_as_it_was(
    tmp_path: Path, mode: int
) -> None:
    store = tmp_path / "store"
    store.mkdir()
    store.chmod(mode)
    with pytest.raises(BackupError, match=rf"mode {mode:04o} .* run `chmod 700 {store}`"):
        dated_path(store, "pg", datetime(2026, 12, 6, tzinfo=UTC), ".dump")
    assert stat.S_IMODE(store.stat().st_mode) == mode
    assert list(store.iterdir()) == []


def test_a_private_existing_store_is_accepted(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    assert private_store(store) == store
