"""Turn an environment into the targets that suites are parametrized over.

A check asks for a fixture by name (``redis_target``, ``smoke_step``, ...); the plugin
parametrizes it with one target per matching declaration, each with a readable test id.
Suite authors get the same fixtures for their own checks.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from opsproof.config.flows import FlowSpec
from opsproof.config.models import (
    DiskCheck,
    Environment,
    HostService,
    HostSpec,
    HttpCheck,
    HttpService,
    MetricsCheck,
    PostgresService,
    ProcessService,
    PrometheusService,
    QueueSpec,
    RedisService,
    RuntimeSpec,
    SmokeStep,
    TlsCheck,
)
from opsproof.support.redact import redact_url

T = TypeVar("T")


@dataclass(frozen=True)
class Target(Generic[T]):
    """One declared thing to verify: the service it belongs to and a readable id."""

    id: str
    name: str
    """The service's name in the config."""
    service: T


@dataclass(frozen=True)
class EndpointTarget(Target[HttpService]):
    check: HttpCheck


@dataclass(frozen=True)
class MetricsTarget(Target[HttpService]):
    metrics: MetricsCheck


@dataclass(frozen=True)
class SmokeTarget(Target[HttpService]):
    step: SmokeStep


@dataclass(frozen=True)
class FlowTarget(Target[HttpService]):
    flow: FlowSpec
    services: dict[str, HttpService]
    """Every http service of the environment: a step may ask another than the flow's."""


@dataclass(frozen=True)
class ReplicaTarget(Target[PostgresService]):
    replica_dsn: str


@dataclass(frozen=True)
class QueueTarget(Target[RedisService]):
    queue: QueueSpec


@dataclass(frozen=True)
class HostTarget(Target[HostService]):
    remote: HostSpec | None
    """The host under ``hosts:`` the service names, reached over opsproof's SSH session."""


@dataclass(frozen=True)
class UnitTarget(Target[Any]):
    """A service's systemd unit (``runtime: {systemd: ...}``); ``remote`` is None for a unit
    on this machine, which the check refuses saying why."""

    unit: str
    remote: HostSpec | None


@dataclass(frozen=True)
class RuntimeTarget(Target[Any]):
    """A service with a runtime (process, container or systemd unit): its runtime health."""

    runtime: RuntimeSpec


@dataclass(frozen=True)
class DiskTarget(HostTarget):
    disk: DiskCheck


@dataclass(frozen=True)
class PortTarget(HostTarget):
    port: int


@dataclass(frozen=True)
class FileTarget(HostTarget):
    path: Path


def _http(env: Environment) -> dict[str, HttpService]:
    return env.services_of(HttpService)


def _liveness(env: Environment) -> list[EndpointTarget]:
    return [
        EndpointTarget(f"GET {svc.url.rstrip('/')}{svc.health.path}", name, svc, svc.health)
        for name, svc in _http(env).items()
        if svc.health
    ]


def _deep_health(env: Environment) -> list[EndpointTarget]:
    return [
        EndpointTarget(
            f"GET {svc.url.rstrip('/')}{svc.deep_health.path}", name, svc, svc.deep_health
        )
        for name, svc in _http(env).items()
        if svc.deep_health
    ]


def _metrics(env: Environment) -> list[MetricsTarget]:
    return [
        MetricsTarget(f"{svc.url.rstrip('/')}{svc.metrics.path}", name, svc, svc.metrics)
        for name, svc in _http(env).items()
        if svc.metrics
    ]


def _tls(env: Environment) -> list[Target[HttpService]]:
    """Every https service, with default TLS expectations where none are declared."""
    targets = []
    for name, svc in _http(env).items():
        if svc.tls is None and not svc.url.startswith("https://"):
            continue
        with_tls = svc if svc.tls else svc.model_copy(update={"tls": TlsCheck()})
        netloc = urlsplit(svc.url).netloc
        targets.append(Target(f"{name} {netloc}", name, with_tls))
    return targets


def _smoke(env: Environment) -> list[SmokeTarget]:
    http = _http(env)
    return [SmokeTarget(step.name, step.service, http[step.service], step) for step in env.smoke]


def _flows(env: Environment) -> list[FlowTarget]:
    http = _http(env)
    return [
        FlowTarget(flow.name, flow.service, http[flow.service], flow, http) for flow in env.flows
    ]


def _redis(env: Environment) -> list[Target[RedisService]]:
    return [
        Target(redact_url(s.url, keep_query=False), n, s)
        for n, s in env.services_of(RedisService).items()
    ]


def _queues(env: Environment) -> list[QueueTarget]:
    return [
        QueueTarget(f"{n} {q.key}", n, s, q)
        for n, s in env.services_of(RedisService).items()
        for q in s.queues
    ]


def _processes(env: Environment) -> list[Target[ProcessService]]:
    """Process services found by their processes; a systemd unit's liveness is its unit's
    state (``_units``)."""
    return [
        Target(n, n, s)
        for n, s in env.services_of(ProcessService).items()
        if s.runtime.systemd is None
    ]


def _units(env: Environment) -> list[UnitTarget]:
    targets = []
    for name, service in env.services.items():
        runtime = getattr(service, "runtime", None)
        if runtime is None or runtime.systemd is None:
            continue
        spec = runtime.systemd
        remote = env.hosts[spec.host] if spec.host is not None else None
        where = remote.url if remote else "local"
        targets.append(UnitTarget(f"{name} {spec.unit} {where}", name, service, spec.unit, remote))
    return targets


def _runtimes(env: Environment) -> list[RuntimeTarget]:
    targets = []
    for name, service in env.services.items():
        runtime: RuntimeSpec | None = getattr(service, "runtime", None)
        if runtime is None:
            continue
        if runtime.docker is not None:
            where = f"docker://{runtime.docker.container}"
        elif runtime.systemd is not None:
            where = f"{runtime.systemd.unit} {runtime.systemd.host or 'local'}"
        else:
            where = "process"
        targets.append(RuntimeTarget(f"{name} {where}", name, service, runtime))
    return targets


def _process_health(env: Environment) -> list[Target[ProcessService]]:
    return [Target(n, n, s) for n, s in env.services_of(ProcessService).items() if s.health]


def _postgres(env: Environment) -> list[Target[PostgresService]]:
    return [
        Target(redact_url(s.dsn, keep_query=False), n, s)
        for n, s in env.services_of(PostgresService).items()
    ]


def _replicas(env: Environment) -> list[ReplicaTarget]:
    return [
        ReplicaTarget(redact_url(s.replica_dsn, keep_query=False), n, s, s.replica_dsn)
        for n, s in env.services_of(PostgresService).items()
        if s.replica_dsn
    ]


def _prometheus(env: Environment) -> list[Target[PrometheusService]]:
    return [Target(s.url, n, s) for n, s in env.services_of(PrometheusService).items()]


def _remote(env: Environment, service: HostService) -> HostSpec | None:
    return env.hosts[service.host] if service.host is not None else None


def _hosts(env: Environment) -> list[HostTarget]:
    targets = []
    for name, service in env.services_of(HostService).items():
        remote = _remote(env, service)
        where = remote.url if remote else service.backend
        targets.append(HostTarget(f"{name} {where}", name, service, remote))
    return targets


def _disks(env: Environment) -> list[DiskTarget]:
    return [
        DiskTarget(f"{n} {d.path}", n, s, _remote(env, s), d)
        for n, s in env.services_of(HostService).items()
        for d in s.disks
    ]


def _private_ports(env: Environment) -> list[PortTarget]:
    return [
        PortTarget(f"{n} port {p}", n, s, _remote(env, s), p)
        for n, s in env.services_of(HostService).items()
        for p in s.private_ports
    ]


def _secret_files(env: Environment) -> list[FileTarget]:
    return [
        FileTarget(f"{n} {f}", n, s, _remote(env, s), f)
        for n, s in env.services_of(HostService).items()
        for f in s.secret_files
    ]


TARGET_FIXTURES: dict[str, Callable[[Environment], Sequence[Target[Any]]]] = {
    "liveness_target": _liveness,
    "deep_health_target": _deep_health,
    "metrics_target": _metrics,
    "tls_target": _tls,
    "smoke_step": _smoke,
    "flow": _flows,
    "redis_target": _redis,
    "redis_queue_target": _queues,
    "process_service_target": _processes,
    "process_health_target": _process_health,
    "unit_target": _units,
    "runtime_target": _runtimes,
    "postgres_target": _postgres,
    "replica_target": _replicas,
    "prometheus_target": _prometheus,
    "host_target": _hosts,
    "disk_target": _disks,
    "private_port_target": _private_ports,
    "secret_file_target": _secret_files,
}
"""Fixture name → the targets it is parametrized with."""
