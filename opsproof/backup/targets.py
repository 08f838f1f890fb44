"""The DR suite's targets, from an environment's ``backup`` block, each with a readable id."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import psycopg

from opsproof.backup.drill.objectives import Targets
from opsproof.backup.on_host import OnHost
from opsproof.backup.postgres.catalog import TABLES
from opsproof.backup.postgres.database import Database
from opsproof.backup.redis.client import Endpoint
from opsproof.config.models import (
    BackupArtifacts,
    BackupConfig,
    Environment,
    PostgresService,
    RedisService,
)

DISCOVERY_TIMEOUT = 5.0
UNSET_TARGET = 0.0
"""A recovery target nobody set: judged as unmet, so a drill without targets cannot pass."""


@dataclass(frozen=True)
class SourceTarget:
    id: str
    name: str
    rto: float | None
    rpo: float | None


@dataclass(frozen=True)
class RedisSource(SourceTarget):
    endpoint: Endpoint
    rdb_file: Path | None
    remote: OnHost | None
    """The host its RDB is copied from: its runtime's (a systemd unit or a process there)."""


@dataclass(frozen=True)
class PostgresSource(SourceTarget):
    database: Database
    on_host: OnHost | None = None
    """pg_dump: host — the host its dump is made on."""


@dataclass(frozen=True)
class TableTarget:
    id: str
    source: str
    table: str
    problem: str = ""
    """Why the tables could not be listed at collection (the item fails with it)."""


@dataclass(frozen=True)
class FilesTarget:
    id: str
    name: str
    path: Path


@dataclass(frozen=True)
class ArtifactTarget:
    id: str
    name: str
    kind: Literal["redis-rdb", "pg-dump", "archive"]
    pattern: str
    max_age: float | None
    required: bool


@dataclass(frozen=True)
class DrillTarget:
    id: str
    targets: Targets
    allowed: bool
    reference: bool
    scenario: bool
    """The environment describes a drill of its own deployment (``backup.scenario``)."""


def _backup(env: Environment) -> BackupConfig:
    return env.backup or BackupConfig()


def redis_sources(env: Environment) -> list[RedisSource]:
    backup = _backup(env)
    found = []
    for name, source in backup.sources.items():
        service = env.services[source.service]
        if isinstance(service, RedisService):
            endpoint = Endpoint(service.url, service.timeout)
            rto, rpo = source.rto or env.slo.rto, source.rpo or env.slo.rpo
            remote = _remote_rdb(env, service, source.max_copy_size)
            found.append(RedisSource(name, name, rto, rpo, endpoint, source.rdb_file, remote))
    return found


def _remote_rdb(env: Environment, service: RedisService, max_size: int) -> OnHost | None:
    """Where the RDB is copied from when the server runs on a host under hosts: (a systemd
    unit or a process there)."""
    host = service.runtime.host if service.runtime else None
    if host is None:
        return None
    return OnHost(host, env.hosts[host], max_size)


def postgres_sources(env: Environment) -> list[PostgresSource]:
    backup = _backup(env)
    found = []
    for name, source in backup.sources.items():
        service = env.services[source.service]
        if isinstance(service, PostgresService):
            database = Database(service.dsn, service.timeout)
            rto, rpo = source.rto or env.slo.rto, source.rpo or env.slo.rpo
            host = service.runtime.host if service.runtime else None
            on_host = None
            if source.pg_dump == "host" and host is not None:
                on_host = OnHost(host, env.hosts[host], source.max_copy_size)
            found.append(PostgresSource(name, name, rto, rpo, database, on_host))
    return found


def tables(env: Environment) -> list[TableTarget]:
    """Every table of every postgres source, listed now (at collection), so that each table
    is its own item; a source that cannot be listed becomes one item failing with the reason."""
    found = []
    for source in postgres_sources(env):
        database = Database(
            source.database.conninfo, min(source.database.timeout, DISCOVERY_TIMEOUT)
        )
        try:
            with database.connect() as conn:
                names = [str(row[0]) for row in conn.execute(TABLES).fetchall()]
        except psycopg.Error as exc:
            problem = f"{database.target}: cannot list its tables: {str(exc).strip()}"
            found.append(TableTarget(f"{source.name} (unlisted)", source.name, "", problem))
            continue
        found += [TableTarget(f"{source.name} {t}", source.name, t) for t in names]
    return found


def files(env: Environment) -> list[FilesTarget]:
    return [FilesTarget(f"{n} {p}", n, p) for n, p in _backup(env).files.items()]


def _max_age(env: Environment, artifacts: BackupArtifacts) -> float | None:
    if artifacts.max_age is not None:
        return artifacts.max_age
    source = _backup(env).sources.get(artifacts.source or "")
    return (source.rpo if source else None) or env.slo.rpo


def artifact_sets(env: Environment) -> list[ArtifactTarget]:
    return [
        ArtifactTarget(
            name,
            name,
            a.kind,
            a.path,
            _max_age(env, a),
            a.fingerprints == "required",
        )
        for name, a in _backup(env).artifacts.items()
    ]


def drill(env: Environment) -> list[DrillTarget]:
    """One drill, when a backup block exists: of the reference stack, or of the deployment its
    scenario describes."""
    if env.backup is None:
        return []
    by_kind: dict[str, tuple[float, float]] = {}
    for source in [*redis_sources(env), *postgres_sources(env)]:
        kind = "redis" if isinstance(source, RedisSource) else "postgres"
        by_kind[kind] = (source.rto or UNSET_TARGET, source.rpo or UNSET_TARGET)
    service = (env.slo.rto or UNSET_TARGET, env.slo.rpo or UNSET_TARGET)
    targets = Targets(by_kind.get("redis", service), by_kind.get("postgres", service), service)
    allowed, reference = env.backup.drill == "allowed", env.stack == "reference"
    scenario = env.backup.scenario is not None
    name = "reference stack" if reference or not scenario else "deployment"
    return [DrillTarget(name, targets, allowed, reference, scenario)]


class Identified(Protocol):
    @property
    def id(self) -> str: ...


BACKUP_FIXTURES: dict[str, Callable[[Environment], Sequence[Identified]]] = {
    "redis_source": redis_sources,
    "postgres_source": postgres_sources,
    "postgres_table": tables,
    "files_source": files,
    "artifact_set": artifact_sets,
    "drill_plan": drill,
}
"""Fixture name → the targets the DR suite parametrizes it with."""
