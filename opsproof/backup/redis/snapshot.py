"""Back up a Redis server: fingerprint and BGSAVE at one instant, then keep the RDB with its
sha256 and fingerprint beside it. The RDB is copied from this machine's filesystem, or over SSH
from the host its systemd unit runs on (``remote_rdb.py``).

Writes are paused (CLIENT PAUSE WRITE: reads go on, expiry and eviction stop) from just before
the fingerprint until BGSAVE has forked, so the fingerprint describes exactly the RDB's
snapshot. The pause carries a server-side deadline, so a crash of ours cannot leave it on.
"""

import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis

from opsproof.backup.on_host import OnHost
from opsproof.backup.redis.client import Endpoint, command, debug_allowed
from opsproof.backup.redis.fingerprint import RedisFingerprint, capture
from opsproof.backup.redis.keyprints import Method
from opsproof.backup.redis.remote_rdb import copy_remote_rdb
from opsproof.backup.store import dated_path, write_checksum, write_fingerprint
from opsproof.errors import BackupError
from opsproof.support.failures import describe_error
from opsproof.support.waiting import poll

PAUSE_FAILSAFE_S = 60.0
"""The server lifts the pause by itself after this; a fingerprint that took longer is refused."""


@dataclass(frozen=True)
class RedisBackup:
    source: str
    rdb: Path
    sha256: str
    fingerprint: RedisFingerprint
    pause_ms: float
    """How long writes were held."""
    duration_s: float
    origin: str
    """The file copied: a path here, or ``host:path`` on the server's host."""
    copy_s: float


def _persistence(client: redis.Redis) -> dict[str, object]:
    info: dict[str, object] = client.info("persistence")
    return info


def _rdb_path(client: redis.Redis, target: str) -> Path:
    try:
        directory = client.config_get("dir")["dir"]
        name = client.config_get("dbfilename")["dbfilename"]
    except (redis.ResponseError, KeyError) as exc:
        raise BackupError(
            f"{target}: cannot ask where the server writes its RDB ({exc}); set rdb_file in "
            "this backup source"
        ) from None
    return Path(str(directory)) / str(name)


def _wait_saved(client: redis.Redis, saves_before: int, deadline: float, target: str) -> None:
    """Until our BGSAVE has finished (``rdb_saves`` went up and none is in progress)."""

    def finished(info: dict[str, object]) -> bool:
        saves = int(str(info["rdb_saves"]))
        return saves > saves_before and not int(str(info["rdb_bgsave_in_progress"]))

    done, info = poll(lambda: _persistence(client), finished, deadline - time.monotonic())
    if not done:
        raise BackupError(f"{target}: BGSAVE did not finish in time")
    if info["rdb_last_bgsave_status"] != "ok":
        raise BackupError(f"{target}: BGSAVE failed; see the server's log")


def _wait_idle(client: redis.Redis, deadline: float, target: str) -> int:
    """Until no save is running (BGSAVE would be refused); the ``rdb_saves`` count then."""
    idle, info = poll(
        lambda: _persistence(client),
        lambda info: not int(str(info["rdb_bgsave_in_progress"])),
        deadline - time.monotonic(),
    )
    if not idle:
        raise BackupError(f"{target}: a save already in progress did not finish in time")
    return int(str(info["rdb_saves"]))


def back_up(
    endpoint: Endpoint,
    name: str,
    store: Path,
    timeout: float,
    rdb_file: Path | None = None,
    remote: OnHost | None = None,
) -> RedisBackup:
    """Back up the server at ``endpoint`` into ``store`` as ``redis-<name>-<UTC stamp>.rdb``.

    ``rdb_file`` is where the server writes its RDB (readable here, or on ``remote``'s host);
    by default it is asked with CONFIG GET. Raises BackupError naming the step that failed."""
    try:
        return _back_up(endpoint, name, store, timeout, rdb_file, remote)
    except (redis.RedisError, OSError) as exc:
        why = describe_error(exc, endpoint.timeout)
        raise BackupError(f"{endpoint.target}: backup failed: {why}") from None


def _copy_here(source_rdb: Path, rdb: Path, target: str) -> None:
    try:
        shutil.copyfile(source_rdb, rdb)
    except OSError as exc:
        raise BackupError(
            f"{target}: cannot copy its RDB {source_rdb} ({exc.strerror}); run opsproof "
            "where the server's RDB file is readable, set rdb_file, or declare the host it "
            "runs on (runtime: {systemd: {unit, host}} or {process: {match, host}})"
        ) from None


def _back_up(
    endpoint: Endpoint,
    name: str,
    store: Path,
    timeout: float,
    rdb_file: Path | None,
    remote: OnHost | None,
) -> RedisBackup:
    target = endpoint.target
    started = time.monotonic()
    deadline = started + timeout
    with endpoint.client() as client:
        method: Method = "debug-digest" if debug_allowed(client) else "content-sha256"
        source_rdb = rdb_file or _rdb_path(client, target)
        saves_before = _wait_idle(client, deadline, target)
        taken_at = datetime.now(UTC)
        paused = time.monotonic()
        command(client, "CLIENT", "PAUSE", int(PAUSE_FAILSAFE_S * 1000), "WRITE")
        try:
            fingerprint = capture(endpoint, method, taken_at)
            client.bgsave()
        finally:
            command(client, "CLIENT", "UNPAUSE")
        pause_ms = (time.monotonic() - paused) * 1000
        if pause_ms >= PAUSE_FAILSAFE_S * 1000:
            raise BackupError(
                f"{target}: fingerprinting took {pause_ms / 1000:.0f} s and the server lifted the "
                "pause before BGSAVE: the fingerprint describes no single instant"
            )
        _wait_saved(client, saves_before, deadline, target)
        rdb = dated_path(store, f"redis-{name}", taken_at, ".rdb")
        copying, digest = time.monotonic(), None
        if remote is None:
            _copy_here(source_rdb, rdb, target)
            origin = str(source_rdb)
        else:
            digest = copy_remote_rdb(remote, source_rdb, rdb, deadline, name, target)
            origin = f"{remote.host_name}:{source_rdb}"
        copy_s = time.monotonic() - copying
        if int(str(_persistence(client)["rdb_saves"])) != saves_before + 1:
            rdb.unlink()
            raise BackupError(f"{target}: another save replaced the RDB while it was copied")
    sha256 = write_checksum(rdb, digest)
    write_fingerprint(rdb, fingerprint)
    duration_s = time.monotonic() - started
    return RedisBackup(name, rdb, sha256, fingerprint, pause_ms, duration_s, origin, copy_s)
