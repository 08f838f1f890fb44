"""A throwaway PostgreSQL cluster: where a dump is restored to be checked, never production.

initdb in a temporary directory (as the ``postgres`` OS user when we are root), Unix socket
only (no TCP listener at all), durability off because nothing here must survive a crash: that
only makes the restore faster, not different.
"""

import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

from opsproof.backup.postgres.cluster import OS_USER, initdb
from opsproof.backup.postgres.database import Database
from opsproof.backup.tools import postgres_tool
from opsproof.errors import BackupError
from opsproof.support.ports import free_ports
from opsproof.support.processes import ComponentState, is_alive, log_tail, spawn, terminate
from opsproof.support.waiting import POLL_INTERVAL

SUPERUSER = "postgres"
STOP_TIMEOUT = 15.0
FAST_SETTINGS = {
    "listen_addresses": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "1h",
    "maintenance_work_mem": "256MB",
    "autovacuum": "off",
}


@dataclass(frozen=True)
class ScratchCluster:
    socket_dir: Path
    port: int
    timeout: float

    def database(self, name: str = "postgres") -> Database:
        """A superuser connection to database ``name`` over the Unix socket."""
        conninfo = make_conninfo(
            host=str(self.socket_dir), port=str(self.port), user=SUPERUSER, dbname=name
        )
        return Database(conninfo, self.timeout)


def _wait_accepting(component: ComponentState, cluster: ScratchCluster, deadline: float) -> None:
    while True:
        if not is_alive(component):
            raise BackupError(f"scratch postgres exited: {log_tail(component.log_file, 5)}")
        try:
            with cluster.database().connect():
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() >= deadline:
                raise BackupError(f"scratch postgres not accepting connections: {exc}") from None
        time.sleep(POLL_INTERVAL)


@contextmanager
def scratch_cluster(timeout: float) -> Iterator[ScratchCluster]:
    """A new, empty cluster, stopped and deleted when the block ends."""
    root = Path(tempfile.mkdtemp(prefix="opsproof-pg-scratch-"))
    root.chmod(0o711)  # the server's OS user must reach its data directory
    data_dir, socket_dir = root / "data", root / "run"
    log_file = root / "postgres.log"
    (port,) = free_ports(1)  # no TCP listener; the port only names the socket file
    settings = [arg for name, value in FAST_SETTINGS.items() for arg in ("-c", f"{name}={value}")]
    component = ComponentState(
        "postgres-scratch",
        0,
        [
            postgres_tool("postgres"),
            *("-D", str(data_dir), "-p", str(port)),
            *("-c", f"unix_socket_directories={socket_dir}"),
            *settings,
        ],
        cwd=str(root),
        log_file=str(log_file),
        user=OS_USER,
    )
    cluster = ScratchCluster(socket_dir, port, timeout)
    deadline = time.monotonic() + timeout
    try:
        bin_dir = Path(postgres_tool("initdb")).parent
        initdb(data_dir, socket_dir, bin_dir, OS_USER, log_file, timeout)
        spawn(component)
        _wait_accepting(component, cluster, deadline)
        yield cluster
    finally:
        terminate([component], lambda _: signal.SIGINT, STOP_TIMEOUT)  # SIGINT: fast shutdown
        shutil.rmtree(root, ignore_errors=True)
