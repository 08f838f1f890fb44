"""The disaster and the way back, on the embedded reference stack: stop the service and its
data stores, wipe their data directories, restore from the backups, start everything again.
"""

import shutil
from pathlib import Path

from psycopg import sql
from psycopg.conninfo import make_conninfo

from opsproof.backup.postgres.cluster import initdb
from opsproof.backup.postgres.database import Database, wait_accepting
from opsproof.backup.postgres.dump import PostgresBackup
from opsproof.backup.postgres.restore import restore_dump, restore_globals
from opsproof.backup.postgres.scratch import SUPERUSER
from opsproof.backup.redis.client import Endpoint
from opsproof.runtimes.launched import StackState
from opsproof.stack.components import POSTGRES_OS_USER, POSTGRES_USER, Layout
from opsproof.stack.launcher import start_component, stop_component

SERVICE = ("api", "worker")
DATA = ("redis", "postgres")


def destroy(state_dir: Path, state: StackState, timeout: float) -> None:
    """Stop the service, then its data stores, and delete their data: what a lost disk leaves."""
    for name in (*SERVICE, *DATA):
        stop_component(state_dir, name, timeout=timeout)
    for entry in Path(state.values["redis.data_dir"]).iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    layout = Layout(Path(state.root))
    for directory in (layout.postgres_data, layout.postgres_run):
        shutil.rmtree(directory)


def restore_redis(state_dir: Path, state: StackState, rdb: Path, timeout: float) -> Endpoint:
    """Put the backup where the server loads it from, start the server (as the master it is)."""
    shutil.copyfile(rdb, Path(state.values["redis.data_dir"]) / "dump.rdb")
    start_component(state_dir, "redis", timeout=timeout)
    return Endpoint(state.values["redis.url"], timeout=min(timeout, 30.0))


def _superuser(state: StackState, dbname: str, timeout: float) -> Database:
    conninfo = make_conninfo(
        host=state.values["postgres.socket_dir"],
        port=state.values["postgres.port"],
        user=SUPERUSER,
        dbname=dbname,
    )
    return Database(conninfo, timeout)


def restore_postgres(
    state_dir: Path, state: StackState, backup: PostgresBackup, timeout: float
) -> Database:
    """A new cluster in the old place, roles and the database restored into it; the role's
    password (never in a dump) is set from the stack's secrets, as a secret store would."""
    layout = Layout(Path(state.root))
    bin_dir = Path(state.values["postgres.bin_dir"])
    log = Path(state.components["postgres"].log_file)
    initdb(layout.postgres_data, layout.postgres_run, bin_dir, POSTGRES_OS_USER, log, timeout)
    start_component(state_dir, "postgres", timeout=timeout, wait_ready=False)
    server = _superuser(state, "postgres", timeout)
    wait_accepting(server, timeout)
    restore_globals(backup.globals_sql, server, timeout)
    with server.connect() as conn:
        password = sql.Literal(state.values["postgres.password"])
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(POSTGRES_USER), password)
        )
    restore_dump(backup.dump, server, backup.fingerprint.database, timeout)
    return _superuser(state, backup.fingerprint.database, timeout)


def start_service(state_dir: Path, timeout: float) -> None:
    for name in SERVICE:
        start_component(state_dir, name, timeout=timeout)
