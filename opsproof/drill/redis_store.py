"""A drilled Redis: where its data lives (asked with CONFIG GET unless configured), and its
restore: the backup's RDB put where the server loads it from (by a helper container when the
server runs in one), the server started through its runtime, loaded before it counts as up."""

import os
import posixpath
import shutil
from dataclasses import dataclass
from pathlib import Path

import redis

from opsproof.backup.redis.client import Endpoint
from opsproof.backup.redis.snapshot import RedisBackup
from opsproof.config.models import RedisService
from opsproof.drill.container_stores import place_rdb
from opsproof.drill.plan import StorePlan
from opsproof.errors import BackupError, SafetyError
from opsproof.runtimes.data import LocalDataDir
from opsproof.runtimes.docker_data import VolumeData
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
    aof: str
    """Where an append-only server loads from instead of the RDB: its AOF directory (Redis 7),
    or its AOF file (older); empty when appendonly is off."""
    aof_name: str = ""
    """The AOF's base name (``appendfilename``)."""


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
            aof, aof_name = _append_only(client)
    except (redis.RedisError, OSError, KeyError) as exc:
        raise SafetyError(
            f"{endpoint.target}: cannot ask where its data lives "
            f"({describe_error(exc, endpoint.timeout)}); set backup.sources.{store.source}."
            "data_dir"
        ) from None
    data_dir = _resolved(store, store.data_dir or Path(directory))
    if config_file and data_dir in _resolved(store, Path(config_file)).parents:
        raise SafetyError(
            f"{endpoint.target}: its config file {config_file} is inside its data directory "
            f"{data_dir}, which the drill moves aside: keep the config file elsewhere"
        )
    return RedisFacts(data_dir, dbfilename, aof, aof_name)


def _resolved(store: StorePlan, path: Path) -> Path:
    """Symbolic links resolved on this machine; a container's path only normalised (its links
    are in its own filesystem)."""
    return Path(posixpath.normpath(path)) if store.in_container else path.resolve()


def _append_only(client: redis.Redis) -> tuple[str, str]:
    if client.config_get("appendonly").get("appendonly") != "yes":
        return "", ""
    name = str(client.config_get("appendfilename")["appendfilename"])
    directory = client.config_get("appenddirname").get("appenddirname")  # Redis 7 and later
    return (str(directory) if directory else name), name


def _place(source: Path, target: Path, owner: os.stat_result) -> None:
    shutil.copyfile(source, target)
    os.chown(target, owner.st_uid, owner.st_gid)
    target.chmod(0o600)


def _as_append_only(facts: RedisFacts, rdb: Path, owner: os.stat_result) -> None:
    """An append-only server ignores the RDB: the backup becomes its AOF's base — the base file
    of a one-line manifest in the AOF directory (Redis 7's multi-part AOF), or the AOF file
    itself (an RDB preamble, which older servers read as such)."""
    if facts.aof == facts.aof_name:
        _place(rdb, facts.data_dir / facts.aof, owner)
        return
    directory = facts.data_dir / facts.aof
    directory.mkdir(mode=0o755)
    os.chown(directory, owner.st_uid, owner.st_gid)
    base = f"{facts.aof_name}.1.base.rdb"
    _place(rdb, directory / base, owner)
    manifest = directory / f"{facts.aof_name}.manifest"
    manifest.write_text(f"file {base} seq 1 type b\n")
    os.chown(manifest, owner.st_uid, owner.st_gid)


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
    store: StorePlan,
    facts: RedisFacts,
    home: LocalDataDir | VolumeData,
    backup: RedisBackup,
    timeout: float,
) -> Endpoint:
    """The RDB copied in with the directory's owner (as the AOF's base too when the server
    is append-only), the server started and loaded."""
    if store.in_container:
        place_rdb(store, home, facts.data_dir, (facts.dbfilename, facts.aof, facts.aof_name),
                  backup)  # fmt: skip
    else:
        assert isinstance(home, LocalDataDir)
        owner = home.path.stat()
        _place(backup.rdb, facts.data_dir / facts.dbfilename, owner)
        if facts.aof:
            _as_append_only(facts, backup.rdb, owner)
    runtime = store.runtime
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
