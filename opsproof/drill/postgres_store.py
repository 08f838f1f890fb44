"""A drilled PostgreSQL: what its rebuild needs to know (asked while it runs), and its restore
in place: a new cluster in the emptied data directory, the original's configuration files,
roles and database restored by a private server (Unix socket in a private directory, trusted
only there, no TCP, no archiving) that the drill verifies before the runtime starts the real
one, so no client ever sees a half-restored database. A server in a container gets the same
through helper containers (``opsproof.drill.container_stores``)."""

import os
import posixpath
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from opsproof.backup.postgres.database import Database, wait_accepting
from opsproof.backup.tools import postgres_tool
from opsproof.config.models import PostgresService
from opsproof.drill.container_stores import (
    SERVER_MANAGED,
    container_bin_dir,
    container_restore_server,
)
from opsproof.drill.plan import StorePlan
from opsproof.drill.restore_server import await_restore_server
from opsproof.errors import BackupError, SafetyError
from opsproof.faults.data_inverse import PRIVATE_PREFIX
from opsproof.runtimes.data import LocalDataDir
from opsproof.runtimes.docker_data import VolumeData
from opsproof.support.ports import free_ports
from opsproof.support.processes import ComponentState, is_alive, log_tail, spawn, terminate

STOP_TIMEOUT = 30.0
START_TIMEOUT = 120.0
"""Until the real server's process runs (it then gets the drill's timeout to accept logins)."""


@dataclass(frozen=True)
class PostgresFacts:
    data_dir: Path
    bin_dir: Path
    superuser: str
    encoding: str
    collate: str
    ctype: str
    checksums: bool

    def initdb_options(self) -> list[str]:
        """What makes a new cluster like the original: superuser, encoding, locale, checksums.
        The other locale categories follow the character type, which exists wherever the
        original ran (the environment's ``LANG`` may not: a container image without locales);
        the original's postgresql.conf sets them afterwards."""
        return [
            *("-U", self.superuser, "-E", self.encoding, f"--locale={self.ctype}"),
            *(f"--lc-collate={self.collate}", f"--lc-ctype={self.ctype}"),
            *(["--data-checksums"] if self.checksums else []),
        ]


def database_of(store: StorePlan) -> Database:
    assert isinstance(store.spec, PostgresService)
    return Database(store.spec.dsn, store.spec.timeout)


def _bin_dir(store: StorePlan) -> Path:
    """Where the running server's own programs are (its initdb matches its version)."""
    if store.in_container:
        return container_bin_dir(store)
    for pid in store.runtime.find():
        try:
            candidate = Path(psutil.Process(pid).exe()).parent
        except psutil.Error:
            continue
        if (candidate / "initdb").exists():
            return candidate
    return Path(postgres_tool("initdb")).parent


def postgres_facts(store: StorePlan) -> PostgresFacts:
    database = database_of(store)
    try:
        with database.connect() as conn:
            superuser = conn.execute("SELECT rolname FROM pg_roles WHERE oid = 10").fetchone()
            checksums = conn.execute("SHOW data_checksums").fetchone()
            template = conn.execute(
                "SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database "
                "WHERE datname = 'template1'"
            ).fetchone()
            data_dir = store.data_dir
            if data_dir is None:
                data_dir = Path(str(_one(conn.execute("SHOW data_directory").fetchone())))
    except psycopg.Error as exc:
        raise SafetyError(
            f"{database.target}: cannot ask what its rebuild needs ({str(exc).strip()}); set "
            f"backup.sources.{store.source}.data_dir, or connect as a role that may read it"
        ) from None
    assert superuser is not None and checksums is not None and template is not None
    return PostgresFacts(
        data_dir=Path(posixpath.normpath(data_dir)) if store.in_container else data_dir.resolve(),
        bin_dir=_bin_dir(store),
        superuser=str(superuser[0]),
        encoding=str(template[0]),
        collate=str(template[1]),
        ctype=str(template[2]),
        checksums=str(checksums[0]) == "on",
    )


def _one(row: tuple[object, ...] | None) -> object:
    assert row is not None
    return row[0]


def _initdb(facts: PostgresFacts, home: LocalDataDir, log: Path, timeout: float) -> None:
    owner = home.path.stat()
    as_root = os.geteuid() == 0
    command = [
        str(facts.bin_dir / "initdb"), "-D", str(home.path), "--no-instructions",
        *facts.initdb_options(),
    ]  # fmt: skip
    with log.open("ab") as out:
        try:
            subprocess.run(
                command, cwd=home.path.parent, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, timeout=timeout, check=True,
                user=owner.st_uid if as_root else None, group=owner.st_gid if as_root else None,
                extra_groups=[] if as_root else None,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise BackupError(f"{home.where}: initdb took longer than {timeout:.0f} s") from None
        except subprocess.CalledProcessError:
            raise BackupError(f"{home.where}: initdb failed: {log_tail(str(log), 3)}") from None


def _copy_configuration(home: LocalDataDir) -> list[str]:
    """The operator's top-level files from the original directory into the new cluster."""
    owner = home.path.stat()
    copied = []
    for entry in sorted(home.aside.iterdir()):
        if entry.is_file() and not entry.is_symlink() and entry.name not in SERVER_MANAGED:
            target = home.path / entry.name
            shutil.copy2(entry, target)
            os.chown(target, owner.st_uid, owner.st_gid)
            copied.append(entry.name)
    return copied


@contextmanager
def restore_server(facts: PostgresFacts, home: LocalDataDir, timeout: float) -> Iterator[Database]:
    """A new cluster in ``home`` with the original's configuration, served privately for the
    restore; a superuser connection to it. Stopped (fast shutdown) when the block ends."""
    private = Path(tempfile.mkdtemp(prefix=PRIVATE_PREFIX))
    owner = home.path.stat()
    os.chown(private, owner.st_uid, owner.st_gid)
    log = private / "restore.log"
    (port,) = free_ports(1)  # no TCP listener; the port only names the socket file
    hba = private / "pg_hba.conf"
    hba.write_text("local all all trust\n")
    os.chown(hba, owner.st_uid, owner.st_gid)
    settings = {
        "listen_addresses": "",
        "unix_socket_directories": str(private),
        "hba_file": str(hba),
        "archive_mode": "off",
        "external_pid_file": "",
    }
    server = ComponentState(
        "postgres-restore",
        0,
        [
            str(facts.bin_dir / "postgres"), "-D", str(home.path), "-p", str(port),
            *(arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")),
        ],
        cwd=str(home.path),
        log_file=str(log),
        user=pwd.getpwuid(owner.st_uid).pw_name if os.geteuid() == 0 else None,
    )  # fmt: skip
    try:
        _initdb(facts, home, log, timeout)
        _copy_configuration(home)
        spawn(server)
        conninfo = make_conninfo(
            host=str(private), port=str(port), user=facts.superuser, dbname="postgres"
        )
        database = Database(conninfo, min(timeout, 30.0))
        _wait_accepting(server, database, home, timeout)
        yield database
    finally:
        terminate([server], lambda _: signal.SIGINT, STOP_TIMEOUT)  # SIGINT: fast shutdown
        shutil.rmtree(private, ignore_errors=True)


def _wait_accepting(
    server: ComponentState, database: Database, home: LocalDataDir, timeout: float
) -> None:
    await_restore_server(
        lambda: is_alive(server), lambda: log_tail(server.log_file, 3), database, home.where,
        timeout,
    )  # fmt: skip


def set_password(store: StorePlan, server: Database) -> None:
    """The service's role gets the password its DSN carries: passwords are never in a dump
    (a secret store would hand them to a real rebuild)."""
    params = conninfo_to_dict(database_of(store).conninfo)
    user, password = params.get("user"), params.get("password")
    if not user or not password:
        return
    statement = sql.SQL("ALTER ROLE {} PASSWORD {}").format(
        sql.Identifier(str(user)), sql.Literal(str(password))
    )
    try:
        with server.connect() as conn:
            conn.execute(statement)
    except psycopg.Error as exc:
        raise BackupError(f"{server.target}: cannot set the role's password: {exc}") from None


def private_server(
    store: StorePlan, facts: PostgresFacts, home: LocalDataDir | VolumeData, timeout: float
) -> AbstractContextManager[Database]:
    """The restore's private server: a process here, or a helper container beside the
    container's data."""
    if store.in_container:
        where = (facts.data_dir, facts.bin_dir)
        return container_restore_server(store, home, where, facts.initdb_options(),
                                        facts.superuser, timeout)  # fmt: skip
    assert isinstance(home, LocalDataDir)
    return restore_server(facts, home, timeout)


def start_postgres(store: StorePlan, timeout: float) -> Database:
    """The real server started through its runtime; accepting the service's own login."""
    store.runtime.start(min(timeout, START_TIMEOUT))
    database = database_of(store)
    wait_accepting(database, timeout)
    return database
