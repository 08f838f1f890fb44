"""A drilled store that runs in a container: its restore done by helper containers from the
store's own image, beside its data (the container's own volumes and bind mounts, at the same
paths), so the files get the image's users and the server its own binaries.

Redis: the backup's RDB copied in (as the AOF's base too when append-only). PostgreSQL: a new
cluster (the image's ``initdb``, as the data directory's owner), the original's configuration
files, and a private server in a helper — no network, its Unix socket in a private directory
of this machine, trust only there, no archiving — that roles and the database are restored into
and verified on before the container starts again, as for a local process.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import psutil
from docker.errors import APIError, NotFound
from docker.models.containers import Container
from psycopg.conninfo import make_conninfo

from opsproof.backup.postgres.database import Database
from opsproof.backup.redis.snapshot import RedisBackup
from opsproof.drill.plan import StorePlan
from opsproof.drill.restore_server import await_restore_server
from opsproof.errors import SafetyError
from opsproof.faults.data_inverse import PRIVATE_PREFIX
from opsproof.runtimes.data import LocalDataDir
from opsproof.runtimes.docker import DockerRuntime
from opsproof.runtimes.docker_data import VolumeData
from opsproof.runtimes.docker_helper import Helper, run_helper, start_helper, stop_helper
from opsproof.support.ports import free_ports

PLACE_TIMEOUT = 600.0
STOP_TIMEOUT = 30.0
BACKUP_RDB = "/opsproof/backup.rdb"
ASIDE = "/opsproof/aside"
SERVER_MANAGED = ("PG_VERSION", "postmaster.pid", "postmaster.opts", "current_logfiles")
"""Top-level files of a data directory the server writes itself; every other top-level file
(postgresql.conf, pg_hba.conf, certificates) is the operator's and is copied to the rebuild."""

PLACE_RDB = f"""set -e
dir="$1" owner="$2" rdb="$3" aof="$4" aof_name="$5"
place() {{ cp {BACKUP_RDB} "$1"; chown "$owner" "$1"; chmod 600 "$1"; }}
place "$dir/$rdb"
if [ -z "$aof" ]; then exit 0; fi
if [ "$aof" = "$aof_name" ]; then place "$dir/$aof"; exit 0; fi
mkdir -m 755 "$dir/$aof"
chown "$owner" "$dir/$aof"
place "$dir/$aof/$aof_name.1.base.rdb"
printf 'file %s seq 1 type b\\n' "$aof_name.1.base.rdb" > "$dir/$aof/$aof_name.manifest"
chown "$owner" "$dir/$aof/$aof_name.manifest"
"""
"""An append-only server ignores the RDB: the backup is also its AOF's base (a one-line
manifest in the AOF directory of Redis 7, or the AOF file itself before)."""

RESTORE_SERVER = f"""set -e
bin="$1" data="$2" aside="$3" port="$4" private="$5"
shift 5
"$bin/initdb" -D "$data" --no-instructions "$@" >&2
for f in "$aside"/* "$aside"/.[!.]* "$aside"/..?*; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  case "${{f##*/}}" in {"|".join(SERVER_MANAGED)}) continue ;; esac
  cp -p "$f" "$data/"
done
exec "$bin/postgres" -D "$data" -p "$port" -c listen_addresses= \\
  -c unix_socket_directories="$private" -c hba_file="$private/pg_hba.conf" \\
  -c archive_mode=off -c external_pid_file=
"""
"""``initdb`` in the emptied directory, the operator's top-level files (postgresql.conf,
pg_hba.conf, certificates) copied from the original, then the private server."""


def owner_of(home: LocalDataDir | VolumeData) -> str:
    """``uid:gid`` of the data directory (a bind mount's is on this machine)."""
    if isinstance(home, VolumeData):
        return home.survey().owner
    info = home.path.stat()
    return f"{info.st_uid}:{info.st_gid}"


def _runtime(store: StorePlan) -> DockerRuntime:
    runtime = store.runtime
    assert isinstance(runtime, DockerRuntime)
    return runtime


def _image(store: StorePlan) -> str:
    return str(_runtime(store).container().attrs["Image"])


def container_bin_dir(store: StorePlan) -> Path:
    """Where the running server's programs are in its image (its initdb matches its
    version): the directory of its processes' executable, as the container sees it."""
    runtime = _runtime(store)
    candidates = []
    for pid in runtime.find():
        try:
            candidates.append(PurePosixPath(psutil.Process(pid).exe()).parent)
        except psutil.Error:
            continue
    for candidate in dict.fromkeys(candidates):
        found = runtime.exec(["sh", "-c", 'test -x "$1/initdb"', "sh", str(candidate)], 30.0)
        if found.returncode == 0:
            return Path(candidate)
    raise SafetyError(
        f"{runtime.id}: no initdb beside its postgres in the image, which the drill needs to "
        "rebuild the cluster"
    )


def place_rdb(
    store: StorePlan,
    home: LocalDataDir | VolumeData,
    data_dir: Path,
    names: tuple[str, str, str],
    backup: RedisBackup,
) -> None:
    """The backup's RDB into the container's data directory ``data_dir`` with its owner;
    ``names``: the RDB file, the AOF (file or directory, empty when append-only is off) and
    the AOF's base name."""
    helper = Helper(
        _image(store), home.drill_id, "place-rdb", PLACE_RDB,
        (str(data_dir), owner_of(home), *names),
        volumes_from=[_runtime(store).target.container],
        mounts={str(backup.rdb): {"bind": BACKUP_RDB, "mode": "ro"}},
    )  # fmt: skip
    run_helper(_runtime(store).client, helper, PLACE_TIMEOUT)


def _aside_mount(home: LocalDataDir | VolumeData) -> tuple[dict[str, dict[str, str]], str]:
    """The original data, read-only in the helper, and the path of its data directory."""
    if isinstance(home, VolumeData):
        where = PurePosixPath(ASIDE, "data", home.sub)
        return {home.clone: {"bind": ASIDE, "mode": "ro"}}, str(where)
    return {str(home.aside): {"bind": ASIDE, "mode": "ro"}}, ASIDE


@contextmanager
def container_restore_server(
    store: StorePlan,
    home: LocalDataDir | VolumeData,
    where: tuple[Path, Path],
    initdb_options: list[str],
    superuser: str,
    timeout: float,
) -> Iterator[Database]:
    """A new cluster in the emptied data directory, served privately by a helper container
    for the restore; a superuser connection to it over its socket. ``where``: the data
    directory and the server's programs, as the container sees them. Stopped (fast shutdown)
    and removed when the block ends; the drill's undo removes it too."""
    data_dir, bin_dir = where
    owner = owner_of(home)
    uid, gid = (int(n) for n in owner.split(":"))
    private = Path(tempfile.mkdtemp(prefix=PRIVATE_PREFIX))
    os.chown(private, uid, gid)
    hba = private / "pg_hba.conf"
    hba.write_text("local all all trust\n")
    os.chown(hba, uid, gid)
    (port,) = free_ports(1)  # no network in the helper; the port only names the socket file
    mounts, aside = _aside_mount(home)
    mounts[str(private)] = {"bind": str(private), "mode": "rw"}
    helper = Helper(
        _image(store), home.drill_id, "restore-server", RESTORE_SERVER,
        (str(bin_dir), str(data_dir), aside, str(port), str(private),
         *initdb_options),
        user=owner, mounts=mounts, volumes_from=[_runtime(store).target.container],
        capabilities=(),
    )  # fmt: skip
    server: Container | None = None
    try:
        server = start_helper(_runtime(store).client, helper)
        conninfo = make_conninfo(
            host=str(private), port=str(port), user=superuser, dbname="postgres"
        )
        database = Database(conninfo, min(timeout, 30.0))
        _wait_accepting(server, database, home, timeout)
        yield database
    finally:
        if server is not None:
            stop_helper(server, "SIGINT", STOP_TIMEOUT)  # SIGINT: fast shutdown
        shutil.rmtree(private, ignore_errors=True)


def _wait_accepting(
    server: Container, database: Database, home: LocalDataDir | VolumeData, timeout: float
) -> None:
    def running() -> bool:
        try:
            server.reload()
        except (NotFound, APIError):
            return False
        return bool(server.status == "running")

    await_restore_server(running, lambda: _log_tail(server), database, home.where, timeout)


def _log_tail(server: Container) -> str:
    try:
        log = server.logs(stdout=True, stderr=True).decode(errors="replace")
    except (NotFound, APIError):
        return "(its log is gone)"
    return " | ".join(log.strip().splitlines()[-3:])
