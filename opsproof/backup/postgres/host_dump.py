"""pg_dump run on the server's own host (``pg_dump: host``), its archive streamed here.

Why: a pg_dump older than its server may dump that release's own settings as the user's (see
``versions.py``); the host's pg_dump is the server's version. It runs over the run's SSH
session as the data directory's owner (``sudo -n runuser``: the peer login the server's own
socket allows), reads the snapshot the fingerprint's transaction exported through the forwarded
port — one server, so one instant —, and writes the custom-format archive to stdout, which goes
into the store bounded by ``max_copy_size``. The archive's integrity is then the suite's full
``pg_restore`` read, as for a dump taken here.
"""

from dataclasses import dataclass
from pathlib import Path

import psycopg

from opsproof.backup.on_host import OnHost
from opsproof.errors import BackupError, HostError
from opsproof.support.waiting import time_left
from opsproof.transport.pool import SESSIONS
from opsproof.transport.ssh import CommandResult

PLACE = (
    "SELECT split_part(current_setting('unix_socket_directories'), ',', 1), "
    "current_setting('port'), current_setting('data_directory'), current_database()"
)


@dataclass(frozen=True)
class ServerPlace:
    """How the server is reached on its own host, as it reports it."""

    socket_dir: str
    port: str
    data_directory: str
    database: str


def server_place(conn: psycopg.Connection[tuple[object, ...]], target: str) -> ServerPlace:
    """Asked of the server itself (reading data_directory needs a superuser or
    pg_read_all_settings)."""
    try:
        row = conn.execute(PLACE).fetchone()
    except psycopg.Error as exc:
        raise BackupError(
            f"{target}: pg_dump: host needs the server's socket, port and data directory: "
            f"{str(exc).strip()}; grant the backup role pg_read_all_settings"
        ) from None
    socket_dir, port, data_directory, database = (str(value) for value in row or ("",) * 4)
    if not socket_dir:
        raise BackupError(f"{target}: pg_dump: host needs a Unix socket; the server has none")
    return ServerPlace(socket_dir, port, data_directory, database)


def dump_on_host(
    remote: OnHost, place: ServerPlace, snapshot: str, dest: Path, deadline: float, target: str
) -> None:
    """The archive of ``place``'s database as of ``snapshot`` in ``dest``, made on the host
    before the monotonic ``deadline``; otherwise BackupError naming the host and no ``dest``."""
    where = f"{target}: pg_dump on host {remote.host_name}"
    try:
        session = SESSIONS.session(remote.host)
        left = time_left(deadline)
        owner = session.run(["stat", "-c", "%U", "--", place.data_directory], timeout=left)
        _judge(owner, where)
        argv = [
            "runuser", "-u", owner.text().strip(), "--",
            "pg_dump", "-h", place.socket_dir, "-p", place.port, "-Fc",
            f"--snapshot={snapshot}", "-d", place.database,
        ]  # fmt: skip
        with dest.open("wb") as out:
            left = time_left(deadline)
            done = session.run(
                argv, timeout=left, max_output=remote.max_size, sudo=True, stdout_to=out
            )
        _judge(done, where)
        if done.truncated:
            raise BackupError(
                f"{where}: the archive is larger than {remote.max_size} bytes; raise the "
                "source's max_copy_size if the store has room for it"
            )
    except HostError as error:
        dest.unlink(missing_ok=True)
        raise BackupError(f"{where}: {error}") from None
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


def _judge(done: CommandResult, where: str) -> None:
    if done.timed_out:
        raise BackupError(f"{where}: not done within the backup's deadline (backup.timeout)")
    if not done.ok:
        raise BackupError(f"{where} failed: {done.why()}")
