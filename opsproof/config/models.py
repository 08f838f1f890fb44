"""The environment model: what a user declares about a deployment in ``opsproof.yaml``.

Every model forbids unknown keys so that a typo is an error with a "did you mean", never a
silently ignored setting. Field docs are user documentation: the loader quotes them in errors.
"""

from pathlib import Path
from typing import Annotated, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from opsproof.config.durations import Duration


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are rejected, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _require_scheme(url: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.hostname:
        raise ValueError(f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return url


class ProcessRuntime(StrictModel):
    """A service running as a local process: how to find it and how to start it again."""

    component: str | None = Field(
        default=None, description="name of a reference-stack component (api, worker, redis, ...)"
    )
    pid_file: Path | None = Field(default=None, description="file holding the main PID")
    match: str | None = Field(
        default=None, description="substring of the command line that finds it"
    )
    start: list[str] | None = Field(default=None, description="command that starts it again")

    @model_validator(mode="after")
    def _one_way_to_find(self) -> "ProcessRuntime":
        if not (self.component or self.pid_file or self.match):
            raise ValueError("name a component, a pid_file or a match so the process can be found")
        return self


class RuntimeConfig(StrictModel):
    """Where a service runs; faults, restores and restarts act through it."""

    process: ProcessRuntime | None = None


class HttpCheck(StrictModel):
    """One HTTP health endpoint and what a healthy answer looks like."""

    path: str = "/health"
    expect_status: int = 200
    expect_json: dict[str, JsonValue] = Field(
        default_factory=dict, description="dotted JSON paths and the values they must have"
    )
    timeout: Duration = 2.0


class MetricsCheck(StrictModel):
    """A Prometheus-format metrics endpoint and the metric names it must expose."""

    path: str = "/metrics"
    names: list[str] = Field(default_factory=list)


class TlsCheck(StrictModel):
    """Certificate checks for an https service."""

    min_days: int = Field(default=14, ge=0, description="fail when the certificate expires sooner")
    hostname: str | None = Field(
        default=None, description="name the certificate must match; default: URL host"
    )
    ca_file: Path | None = Field(
        default=None, description="trust anchor for the chain; default: system store"
    )


class ServiceBase(StrictModel):
    runtime: RuntimeConfig | None = None
    timeout: Duration = Field(default=3.0, description="deadline for every call to this service")


class HttpService(ServiceBase):
    """An HTTP(S) service: the API, a reverse proxy, a worker's status port."""

    kind: Literal["http"]
    url: str
    health: HttpCheck | None = Field(default_factory=HttpCheck)
    deep_health: HttpCheck | None = None
    metrics: MetricsCheck | None = None
    tls: TlsCheck | None = None
    ca_file: Path | None = Field(
        default=None, description="CA bundle to trust for requests (self-signed)"
    )
    headers: dict[str, str] = Field(
        default_factory=dict, description="sent with every request; values are treated as secrets"
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        return _require_scheme(url, ("http", "https"))


class RedisService(ServiceBase):
    """A Redis server (cache, queue, session store)."""

    kind: Literal["redis"]
    url: str = Field(description="redis://[:password@]host:port/db")
    expect_role: Literal["master", "slave"] | None = Field(
        default=None, description="role INFO replication must report"
    )
    max_memory_ratio: float = Field(
        default=0.9, gt=0, le=1, description="used_memory / maxmemory above this fails"
    )
    expect_eviction_policy: str | None = Field(default=None, description="e.g. allkeys-lru")

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: str) -> str:
        return _require_scheme(url, ("redis", "rediss"))


class PostgresService(ServiceBase):
    """A PostgreSQL server."""

    kind: Literal["postgres"]
    dsn: str = Field(description="postgresql://user:password@host:port/db")
    max_connections_ratio: float = Field(
        default=0.8, gt=0, le=1, description="connections / max_connections above this fails"
    )
    long_query_seconds: Duration = Field(
        default=300.0, description="an active query older than this fails"
    )
    replica_dsn: str | None = Field(
        default=None, description="a replica to check for replication lag"
    )
    max_replication_lag: Duration = 30.0

    @field_validator("dsn", "replica_dsn")
    @classmethod
    def _postgres_dsn(cls, dsn: str | None) -> str | None:
        return None if dsn is None else _require_scheme(dsn, ("postgresql", "postgres"))


class PrometheusService(ServiceBase):
    """A Prometheus server whose targets and alerts the gate inspects."""

    kind: Literal["prometheus"]
    url: str
    expected_jobs: list[str] = Field(
        default_factory=list, description="scrape jobs that must have every target up"
    )
    critical_severities: list[str] = Field(default_factory=lambda: ["critical"])

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        return _require_scheme(url, ("http", "https"))


class DiskCheck(StrictModel):
    path: Path
    max_used_percent: float = Field(default=90.0, gt=0, le=100)


class HostService(StrictModel):
    """A host, inspected through pytest-testinfra (``local://``, ``ssh://user@host``, ...)."""

    kind: Literal["host"]
    backend: str = Field(default="local://", description="a testinfra host spec")
    disks: list[DiskCheck] = Field(default_factory=lambda: [DiskCheck(path=Path("/"))])
    max_memory_used_percent: float = Field(default=90.0, gt=0, le=100)
    private_ports: list[int] = Field(
        default_factory=list, description="ports that must not listen on all interfaces"
    )
    secret_files: list[Path] = Field(
        default_factory=list, description="files that must not be readable by others"
    )


Service = Annotated[
    HttpService | RedisService | PostgresService | PrometheusService | HostService,
    Field(discriminator="kind"),
]


class SmokeRequest(StrictModel):
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    path: str
    headers: dict[str, str] = Field(default_factory=dict)
    json_body: JsonValue = Field(default=None, alias="json")
    body: str | None = None

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("a request path starts with '/'")
        return path


Signature = Literal["png", "jpeg", "gif", "pdf", "gzip", "zip"]


class SmokeExpect(StrictModel):
    status: int = 200
    content_type: str | None = Field(default=None, description="media type, parameters ignored")
    json_fields: dict[str, JsonValue] = Field(
        default_factory=dict, alias="json", description="dotted paths and expected values"
    )
    signature: Signature | None = Field(
        default=None, description="binary format the body must have"
    )
    body_contains: str | None = None
    max_latency: Duration | None = Field(
        default=None, description="latency budget for this request"
    )


class SmokeStep(StrictModel):
    """One post-deploy request and what its answer must be; each step is its own test."""

    name: str
    service: str
    request: SmokeRequest
    expect: SmokeExpect = Field(default_factory=SmokeExpect)


class Convergence(StrictModel):
    """Post-deploy convergence: retry failing checks until a deadline (goss --retry-timeout)."""

    timeout: Duration = Field(default=0.0, description="0 disables retrying")
    interval: Duration = 1.0


class SloTargets(StrictModel):
    """Service level targets; checks, load and DR runs report their figures against these."""

    availability: float | None = Field(default=None, gt=0, le=1)
    latency_p95: Duration | None = None
    latency_p99: Duration | None = None
    error_rate: float | None = Field(default=None, ge=0, le=1)
    rto: Duration | None = None
    rpo: Duration | None = None


Permission = Literal["allowed", "forbidden"]
ServiceT = TypeVar(
    "ServiceT", HttpService, RedisService, PostgresService, PrometheusService, HostService
)


class Environment(StrictModel):
    """One deployment (staging, production, reference) and everything the suites verify on it."""

    description: str = ""
    stack: Literal["reference"] | None = Field(
        default=None, description="endpoints come from the running embedded reference stack"
    )
    services: dict[str, Service]
    smoke: list[SmokeStep] = Field(default_factory=list)
    slo: SloTargets = Field(default_factory=SloTargets)
    convergence: Convergence = Field(default_factory=Convergence)
    chaos: Permission = "forbidden"
    load: Permission = "forbidden"

    @model_validator(mode="after")
    def _smoke_targets_exist(self) -> "Environment":
        http = sorted(name for name, svc in self.services.items() if isinstance(svc, HttpService))
        problems: list[InitErrorDetails] = []
        names: set[str] = set()
        for index, step in enumerate(self.smoke):
            if step.service not in http:
                choices = ", ".join(http) or "none declared"
                message = f"{step.service!r} is not an http service here (http services: {choices})"
                problems.append(_located(("smoke", index, "service"), step.service, message))
            if step.name in names:
                message = (
                    f"{step.name!r} is used twice; smoke step names are test ids, make them unique"
                )
                problems.append(_located(("smoke", index, "name"), step.name, message))
            names.add(step.name)
        if problems:
            # a ValidationError keeps each problem's location, so the loader can point at its line
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    def services_of(self, kind: type[ServiceT]) -> dict[str, ServiceT]:
        """The declared services of one kind, by name."""
        return {name: svc for name, svc in self.services.items() if isinstance(svc, kind)}


def _located(loc: tuple[str | int, ...], value: str, message: str) -> InitErrorDetails:
    error = PydanticCustomError("invalid_reference", "{message}", {"message": message})
    return InitErrorDetails(type=error, loc=loc, input=value)


class ConfigFile(StrictModel):
    """The whole file: a version and named environments."""

    version: Literal[1] = 1
    environments: dict[str, Environment]
