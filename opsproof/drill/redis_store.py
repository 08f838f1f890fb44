"""A drilled Redis: where its data lives (asked with CONFIG GET unless configured), and its
restore: the backup's RDB put where the server loads it from, the server started through its
runtime, loaded before it counts as up."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import redis

from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.snapshot import RedisBackup
from opsproof.config.models import RedisService
from opsproof.drill.plan import StorePlan
from opsproof.errors import BackupError, SafetyError
from opsproof.runtimes import ProcessRuntime
from opsproof.runtimes.data import LocalDataDir
from opsproof.support.failures import describe_error
from opsproof.support.waiting import poll

EXITED = "exited"
SAVE_TIMEOUT = 300.0
START_TIMEOUT = 60.0
"""Until the server's process runs; loading the RDB is waited for apart, as long as it runs."""


@dataclass(frozen=True)
class RedisFacts:
    data_dir: Path
    dbfilename: str


def endpoint_of(store: StorePlan) -> Endpoint:
    assert isinstance(store.spec, RedisService)
    return Endpoint(store.spec.url, store.spec.timeout)


def redis_facts(store: StorePlan) -> RedisFacts:
    """Asked from the running server; a config file inside the data directory is refused (the
    drill moves that directory aside, and the server could not start without it)."""
    endpoint = endpoint_of(store)
    try:
        with endpoint.client() as client:
            directory = str(client.config_get("dir")["dir"])
            dbfilename = str(client.config_get("dbfilename")["dbfilename"])
            config_file = str(client.info("server").get("config_file") or "")
    except (redis.RedisError, OSError, KeyError) as exc:
        raise SafetyError(
            f"{endpoint.target}: cannot ask where its data lives "
            f"({describe_error(exc, endpoint.timeout)}); set backup.sources.{store.source}."
            "data_dir"
        ) from None
    data_dir = (store.data_dir or Path(directory)).resolve()
    if config_file and data_dir in Path(config_file).resolve().parents:
        raise SafetyError(
            f"{endpoint.target}: its config file {config_file} is inside its data directory "
            f"{data_dir}, which the drill moves aside: keep the config file elsewhere"
        )
    return RedisFacts(data_dir, dbfilename)


def persist(store: StorePlan) -> None:
    """SAVE before the server is stopped, so the data set aside is all of it whatever the
    server's save policy (a cache with ``save ""`` would lose what it holds on SIGTERM)."""
    served = endpoint_of(store)
    endpoint = Endpoint(served.url, max(served.timeout, SAVE_TIMEOUT))
    try:
        with endpoint.client() as client:
            client.save()
    except (redis.RedisError, OSError) as exc:
        why = describe_error(exc, endpoint.timeout)
        raise BackupError(f"{endpoint.target}: SAVE before the stop failed: {why}") from None


def restore_redis(
    store: StorePlan, facts: RedisFacts, home: LocalDataDir, backup: RedisBackup, timeout: float
) -> Endpoint:
    """The RDB copied in with the directory's owner, the server started and loaded."""
    target = facts.data_dir / facts.dbfilename
    owner = home.path.stat()
    shutil.copyfile(backup.rdb, target)
    os.chown(target, owner.st_uid, owner.st_gid)
    target.chmod(0o600)
    runtime = ProcessRuntime(store.target)
    runtime.start(min(timeout, START_TIMEOUT))
    endpoint = endpoint_of(store)

    def answer() -> str:
        if not runtime.find():
            return EXITED
        try:
            with endpoint.client() as client:
                client.ping()  # LOADING is an error until the RDB is in memory
            return ""
        except (redis.RedisError, OSError) as exc:
            return describe_error(exc, endpoint.timeout)

    up, why = poll(answer, lambda why: why in ("", EXITED), timeout)
    if why == EXITED:
        raise BackupError(f"{runtime.id} exited while loading the restored RDB; see its log")
    if not up:
        raise BackupError(f"{endpoint.target}: not answering after the restore: {why}")
    return endpoint
