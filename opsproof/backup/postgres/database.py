"""A database to back up or compare: connections with a deadline, and arguments for the
PostgreSQL client programs that keep the password off their command line."""

import math
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from opsproof.errors import BackupError
from opsproof.support.redact import redact_url
from opsproof.support.waiting import poll


@dataclass(frozen=True)
class Database:
    conninfo: str
    """A ``postgresql://`` URL or a ``key=value`` connection string."""
    timeout: float
    """Deadline for connecting; statements are bounded by the caller's step deadline."""

    @property
    def target(self) -> str:
        """Readable id without the password."""
        if "://" in self.conninfo:
            return redact_url(self.conninfo, keep_query=False)
        params = conninfo_to_dict(self.conninfo)
        params.pop("password", None)
        return make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})

    @property
    def name(self) -> str:
        return str(conninfo_to_dict(self.conninfo).get("dbname") or "postgres")

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self.conninfo, connect_timeout=max(2, math.ceil(self.timeout)), autocommit=autocommit
        )

    def with_name(self, dbname: str) -> "Database":
        """The same server, another database."""
        return Database(make_conninfo(self.conninfo, dbname=dbname), self.timeout)

    def server_args(self) -> tuple[list[str], dict[str, str]]:
        """``-h -p -U`` for programs that take a database *pattern* rather than a conninfo
        (pg_amcheck), and the environment carrying the password."""
        params = conninfo_to_dict(self.conninfo)
        flags = {"host": "-h", "port": "-p", "user": "-U"}
        args = [
            arg
            for key, flag in flags.items()
            if params.get(key)
            for arg in (flag, str(params[key]))
        ]
        return args, self.tool_args()[1]

    def tool_args(self) -> tuple[list[str], dict[str, str]]:
        """``-d CONNINFO`` without the password, and the environment that carries it."""
        params = conninfo_to_dict(self.conninfo)
        password = params.pop("password", None)
        env = {"PGCONNECT_TIMEOUT": str(max(2, math.ceil(self.timeout)))}
        if password:
            env["PGPASSWORD"] = str(password)
        conninfo = make_conninfo(**{k: str(v) for k, v in params.items() if v is not None})
        return ["-d", conninfo], env


def wait_accepting(database: Database, timeout: float) -> None:
    """Poll until ``database`` accepts a connection; BackupError with the last refusal."""

    def refusal() -> str | None:
        try:
            with database.connect():
                return None
        except psycopg.OperationalError as exc:
            return str(exc)

    accepted, refused = poll(refusal, lambda reason: reason is None, timeout)
    if not accepted:
        raise BackupError(f"{database.target}: not accepting connections: {refused}")
