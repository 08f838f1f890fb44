"""The DR suite's shared work: each backup and scratch restore is done once per session, on
first use, and every item that judges it reads the result (or the reason it failed)."""

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest

from opsproof.backup.files.archive import FilesBackup
from opsproof.backup.files.archive import back_up as back_up_files
from opsproof.backup.postgres.dump import PostgresBackup
from opsproof.backup.postgres.dump import back_up as back_up_postgres
from opsproof.backup.postgres.verify import RestoredCopy, restored_copy
from opsproof.backup.redis.snapshot import RedisBackup
from opsproof.backup.redis.snapshot import back_up as back_up_redis
from opsproof.backup.targets import FilesTarget, PostgresSource, RedisSource
from opsproof.errors import OpsproofError

T = TypeVar("T")


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """A step's result, or why it failed."""

    value: T | None = None
    problem: str = ""

    def get(self) -> T:
        """The result; fails the calling test with the step's reason when there is none."""
        if self.value is None:
            pytest.fail(self.problem, pytrace=False)
        return self.value


def attempt(step: Callable[[], T]) -> Attempt[T]:
    try:
        return Attempt(step())
    except OpsproofError as exc:
        return Attempt(problem=str(exc))


class DrSession:
    """Owned by a session fixture; scratch servers it started stop when it is closed."""

    def __init__(self, store: Path, timeout: float) -> None:
        self.store = store
        self.timeout = timeout
        self._resources = ExitStack()
        self._done: dict[tuple[str, str], Attempt[Any]] = {}

    def _once(self, kind: str, name: str, step: Callable[[], T]) -> Attempt[T]:
        key = (kind, name)
        if key not in self._done:
            self._done[key] = attempt(step)
        done: Attempt[T] = self._done[key]
        return done

    def redis_backup(self, source: RedisSource) -> Attempt[RedisBackup]:
        return self._once(
            "redis",
            source.name,
            lambda: back_up_redis(
                source.endpoint,
                source.name,
                self.store,
                self.timeout,
                source.rdb_file,
                source.remote,
            ),
        )

    def postgres_backup(self, source: PostgresSource) -> Attempt[PostgresBackup]:
        return self._once(
            "postgres",
            source.name,
            lambda: back_up_postgres(
                source.database, source.name, self.store, self.timeout, source.on_host
            ),
        )

    def postgres_restore(self, source: PostgresSource) -> Attempt[RestoredCopy]:
        def restore() -> RestoredCopy:
            backup = self.postgres_backup(source)
            if backup.value is None:
                raise OpsproofError(f"no backup to restore: {backup.problem}")
            copy = restored_copy(
                backup.value.dump,
                backup.value.globals_sql,
                backup.value.fingerprint.database,
                self.timeout,
                backup.value.fingerprint,
            )
            return self._resources.enter_context(copy)

        return self._once("postgres-restore", source.name, restore)

    def files_backup(self, target: FilesTarget) -> Attempt[FilesBackup]:
        return self._once(
            "files", target.name, lambda: back_up_files(target.path, target.name, self.store)
        )

    def close(self) -> None:
        self._resources.close()
