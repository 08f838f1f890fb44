"""The environment model: what a user declares about a deployment in ``opsproof.yaml``.

Every model forbids unknown keys so that a typo is an error with a "did you mean", never a
silently ignored setting. Field docs are user documentation: the loader quotes them in errors.
"""

import json
import re
from pathlib import Path
from typing import Annotated, Literal, TypeVar, get_args

from pydantic import (
    ByteSize,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from opsproof.config.durations import Duration, PositiveDuration
from opsproof.config.flows import (
    VARIABLE_NAME,
    FlowExpectSpec,
    FlowRequestSpec,
    FlowSpec,
    FlowStepSpec,
    Signature,
)
from opsproof.config.limits import CountLimit, LatencyLimit, RateLimit
from opsproof.config.problems import did_you_mean, excerpt, listing
from opsproof.config.shares import CpuShare, LimitShare, Since
from opsproof.config.strict import StrictModel
from opsproof.config.values import (
    DEFAULT_MAX_BODY,
    Bytes,
    FilePath,
    Headers,
    Hostname,
    HttpStatus,
    Number,
    Port,
    RequestPath,
    Version,
    Whole,
    host_port,
    http_url,
    postgres_dsn,
    redis_url,
    ssh_url,
)

MaxBody = Annotated[
    ByteSize,
    Field(
        gt=0,
        le=1 << 30,
        description="largest response body a probe reads, counted after decompression "
        "(default 4MiB, at most 1GiB); a longer body fails the check",
    ),
]


class ProcessRuntimeSpec(StrictModel):
    """A service running as processes, on this machine or on a host under hosts:: how to find
    them and how to start them again."""

    component: str | None = Field(
        default=None, description="name of a reference-stack component (api, worker, redis, ...)"
    )
    pid_file: FilePath | None = Field(default=None, description="file holding the main PID")
    match: str | None = Field(
        default=None, description="substring of the command line that finds it"
    )
    start: list[str] | None = Field(default=None, description="command that starts it again")
    host: str | None = Field(
        default=None,
        description="a name under hosts: where the process runs; found, signalled and started "
        "again over SSH there (pid_file and start are paths on that host)",
    )

    @model_validator(mode="after")
    def _one_way_to_find(self) -> "ProcessRuntimeSpec":
        if not (self.component or self.pid_file or self.match):
            raise ValueError("name a component, a pid_file or a match so the process can be found")
        if self.component and self.host:
            raise ValueError(
                "a reference-stack component runs on this machine; drop host, or find the "
                "process there by pid_file or match"
            )
        return self


class DockerRuntimeSpec(StrictModel):
    """A service running as a Docker container, acted on through the engine's API."""

    container: str = Field(description="container name or id, as `docker ps` shows it")


_UNIT_NAME = re.compile(r"[A-Za-z0-9:_.\\@-]+\.service")


class SystemdRuntimeSpec(StrictModel):
    """A systemd unit, acted on through systemctl (on a host under hosts:, over SSH)."""

    unit: str = Field(description="the service unit's full name, e.g. redis-server.service")
    host: str | None = Field(
        default=None,
        description="a name under hosts: where the unit runs; without it, this machine's own "
        "systemd (refused when PID 1 is not systemd)",
    )

    @field_validator("unit")
    @classmethod
    def _unit_name(cls, unit: str) -> str:
        if not _UNIT_NAME.fullmatch(unit):
            raise ValueError(
                f"{excerpt(unit)} is not a service unit's name; write it in full, e.g. "
                "redis-server.service (letters, digits and :_.\\@- before .service)"
            )
        return unit


class RuntimeBudget(StrictModel):
    """What a service may use, judged by the gate's runtime health item; a key left out is
    recorded, not judged (unless the environment's runtime_health.budget sets it)."""

    memory: Bytes | None = Field(
        default=None,
        description="most memory all its processes may use: RSS for a process, the cgroup's "
        "charge less inactive file cache for a container (as docker stats), MemoryCurrent for a "
        "unit; e.g. 500MiB",
    )
    cpu: CpuShare | None = Field(
        default=None,
        description="most CPU over the sampling window (runtime_health.cpu_window), in cores as "
        "top shows it: 80% is 0.8 of one core, 1.5 is one and a half cores",
    )
    open_files: LimitShare | None = Field(
        default=None,
        description="most open file descriptors of any of its processes, as a share of that "
        "process's soft limit (Max open files): 80% or 0.8 (default 90% when nothing sets it)",
    )


class RestartRule(StrictModel):
    """Restarts the gate allows: none since a baseline."""

    since: Since = Field(
        default="previous",
        description="previous: the restart count must not rise since the previous gate run "
        "(the first run records the baseline and says so); a duration such as 24h: since the "
        "last reading at least that old",
    )


class RuntimeSpec(StrictModel):
    """Where a service runs; faults, restores and restarts act through it."""

    process: ProcessRuntimeSpec | None = None
    docker: DockerRuntimeSpec | None = None
    systemd: SystemdRuntimeSpec | None = None
    budget: RuntimeBudget | None = Field(
        default=None,
        description="memory, CPU and open files this service may use; each key overrides the "
        "environment's runtime_health.budget",
    )
    restarts: RestartRule | None = Field(
        default=None, description="overrides the environment's runtime_health.restarts"
    )

    @property
    def host(self) -> str | None:
        """The name under hosts: of the machine it runs on (a unit's or a process's host)."""
        on = self.systemd or self.process
        return on.host if on is not None else None

    @model_validator(mode="after")
    def _exactly_one(self) -> "RuntimeSpec":
        if [self.process, self.docker, self.systemd].count(None) != 2:
            raise ValueError(
                "declare exactly one runtime: process: {...}, docker: {...} or systemd: {...}"
            )
        return self


class HttpCheck(StrictModel):
    """One HTTP health endpoint and what a healthy answer looks like."""

    path: RequestPath = Field(default="/health", description="requested with GET on the url")
    expect_status: HttpStatus = Field(default=200, description="the status of a healthy answer")
    expect_json: dict[str, JsonValue] = Field(
        default_factory=dict, description="dotted JSON paths and the values they must have"
    )
    timeout: PositiveDuration = Field(default=2.0, description="deadline for the whole answer")


class MetricsCheck(StrictModel):
    """A Prometheus-format metrics endpoint and the metric names it must expose."""

    path: RequestPath = "/metrics"
    names: list[str] = Field(default_factory=list, description="metric names that must be exposed")


class TlsCheck(StrictModel):
    """Certificate checks for an https service."""

    min_days: Whole = Field(
        default=14, ge=0, le=3650, description="fail when the certificate expires sooner"
    )
    hostname: Hostname | None = Field(
        default=None, description="name the certificate must match; default: URL host"
    )
    ca_file: FilePath | None = Field(
        default=None,
        description="trust anchor for the chain; default: the service's ca_file, else system store",
    )


class ServiceBase(StrictModel):
    runtime: RuntimeSpec | None = None
    timeout: PositiveDuration = Field(
        default=3.0, description="deadline for every call to this service"
    )


class HttpService(ServiceBase):
    """An HTTP(S) service: the API, a reverse proxy, a worker's status port."""

    kind: Literal["http"]
    url: str = Field(description="http:// or https:// base URL; request paths are appended to it")
    health: HttpCheck | None = Field(default_factory=HttpCheck)
    deep_health: HttpCheck | None = None
    metrics: MetricsCheck | None = None
    tls: TlsCheck | None = None
    ca_file: FilePath | None = Field(
        default=None, description="CA bundle to trust for requests (self-signed)"
    )
    headers: Headers = Field(
        default_factory=dict, description="sent with every request; values are treated as secrets"
    )
    max_body: MaxBody = ByteSize(DEFAULT_MAX_BODY)
    api_contract: "ApiContractSpec | None" = Field(
        default=None,
        description="probe every operation of its OpenAPI document with generated inputs "
        "(docs/contract.md)",
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        return http_url(url)


class QueueSpec(StrictModel):
    """A Redis key used as a queue and the length its backlog must stay within."""

    key: str = Field(min_length=1, description="the queue's key, as the workers name it")
    type: Literal["list", "stream", "zset", "set"] = Field(
        default="list", description="list (LLEN), stream (XLEN), zset (ZCARD) or set (SCARD)"
    )
    max: Whole | None = Field(
        default=None, ge=0, description="a longer queue fails: the backlog bound"
    )
    min: Whole = Field(default=0, ge=0, description="a shorter queue fails")
    must_exist: bool = Field(
        default=False,
        description="a missing key fails; otherwise it counts as an empty queue (said so)",
    )

    @model_validator(mode="after")
    def _a_bound(self) -> "QueueSpec":
        if self.max is None and self.min == 0 and not self.must_exist:
            raise ValueError(
                "a queue check needs a bound: set max (the backlog it may reach), min, or "
                "must_exist: true"
            )
        if self.max is not None and self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min}); swap or fix them")
        return self


class RedisService(ServiceBase):
    """A Redis server (cache, queue, session store)."""

    kind: Literal["redis"]
    url: str = Field(description="redis://[:password@]host:port/db")
    expect_role: Literal["master", "slave"] | None = Field(
        default=None, description="role INFO replication must report"
    )
    max_memory_ratio: Number = Field(
        default=0.9, gt=0, le=1, description="used_memory / maxmemory above this fails"
    )
    expect_eviction_policy: str | None = Field(default=None, description="e.g. allkeys-lru")
    queues: list[QueueSpec] = Field(
        default_factory=list, description="keys used as queues: one gate item each"
    )

    @field_validator("queues")
    @classmethod
    def _keys_once(cls, queues: list[QueueSpec]) -> list[QueueSpec]:
        keys = [queue.key for queue in queues]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ValueError(f"{listing(twice)} listed twice; a queue is checked once")
        return queues

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: str) -> str:
        return redis_url(url)


class PostgresService(ServiceBase):
    """A PostgreSQL server."""

    kind: Literal["postgres"]
    dsn: str = Field(description="postgresql://user:password@host:port/db")
    max_connections_ratio: Number = Field(
        default=0.8, gt=0, le=1, description="connections / max_connections above this fails"
    )
    long_query_seconds: PositiveDuration = Field(
        default=300.0, description="an active query older than this fails"
    )
    replica_dsn: str | None = Field(
        default=None, description="a replica to check for replication lag"
    )
    max_replication_lag: PositiveDuration = Field(
        default=30.0, description="replica_dsn replaying later than this fails"
    )

    @field_validator("dsn", "replica_dsn")
    @classmethod
    def _postgres_dsn(cls, dsn: str | None) -> str | None:
        return None if dsn is None else postgres_dsn(dsn)


class PrometheusService(ServiceBase):
    """A Prometheus server whose targets and alerts the gate inspects."""

    kind: Literal["prometheus"]
    url: str = Field(description="http:// or https:// base URL of its HTTP API")
    expected_jobs: list[str] = Field(
        default_factory=list, description="scrape jobs that must have every target up"
    )
    critical_severities: list[str] = Field(
        default_factory=lambda: ["critical"],
        description="severity label values of alerts that fail the gate while firing",
    )
    max_body: MaxBody = ByteSize(DEFAULT_MAX_BODY)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        return http_url(url)


class DiskCheck(StrictModel):
    """A filesystem on the host and how full it may be."""

    path: FilePath = Field(description="a path on the host; its filesystem is checked")
    max_used_percent: Number = Field(
        default=90.0, gt=0, le=100, description="space used above this fails"
    )


def _default_known_hosts() -> Path:
    return Path("~/.ssh/known_hosts").expanduser()


class SshOptionsSpec(StrictModel):
    """How opsproof logs in to a host: host keys are always checked against ``known_hosts``."""

    known_hosts: FilePath = Field(
        default_factory=_default_known_hosts,
        description="the host's key must be in this file (default ~/.ssh/known_hosts); "
        "an unknown or changed key is refused",
    )
    identity_file: FilePath | None = Field(
        default=None, description="private key to log in with; default: the agent and ~/.ssh keys"
    )
    sudo: bool = Field(
        default=False, description="run commands that change the host through sudo -n (no password)"
    )
    connect_timeout: PositiveDuration = Field(default=15.0, description="deadline for the login")


class HostSpec(StrictModel):
    """A machine opsproof reaches over SSH, one multiplexed connection per run."""

    url: str = Field(description="ssh://user@host:port")
    ssh: SshOptionsSpec = Field(default_factory=SshOptionsSpec)

    @field_validator("url")
    @classmethod
    def _ssh_url(cls, url: str) -> str:
        return ssh_url(url)


class HostService(StrictModel):
    """A host, inspected through pytest-testinfra (``local://``, ``ssh://user@host``, ...)."""

    kind: Literal["host"]
    backend: str = Field(default="local://", description="a testinfra host spec")
    host: str | None = Field(
        default=None,
        description="a name under hosts: inspected over opsproof's SSH connection instead of "
        "backend",
    )
    disks: list[DiskCheck] = Field(default_factory=lambda: [DiskCheck(path=Path("/"))])
    max_memory_used_percent: Number = Field(
        default=90.0, gt=0, le=100, description="memory in use (total - available) above this fails"
    )
    private_ports: list[Port] = Field(
        default_factory=list, description="ports that must not listen on all interfaces"
    )
    secret_files: list[FilePath] = Field(
        default_factory=list, description="files that must not be readable by others"
    )


class ProcessHealthSpec(StrictModel):
    """A command that says whether a process is healthy (a worker's ping), run by opsproof on
    this machine with a deadline; it observes and must change nothing."""

    command: list[str] = Field(
        min_length=1, description="program and arguments, run without a shell"
    )
    timeout: PositiveDuration = Field(
        default=5.0, le=300, description="killed (its whole process group) after this; fails"
    )
    expect_exit: Whole = Field(default=0, ge=0, le=255, description="the exit status of health")
    expect_output: str | None = Field(
        default=None, description="text its output (stdout and stderr) must contain"
    )

    @field_validator("command")
    @classmethod
    def _program(cls, command: list[str]) -> list[str]:
        if not command[0].strip():
            raise ValueError("the first word is the program to run; it is empty")
        return command


class ProcessService(StrictModel):
    """A process that serves no HTTP (a queue worker, a scheduler): alive through its runtime,
    healthy through an optional command."""

    kind: Literal["process"]
    runtime: RuntimeSpec = Field(description="how to find it (and start it again)")
    health: ProcessHealthSpec | None = Field(
        default=None, description="a command that must succeed while it is healthy"
    )


Service = Annotated[
    HttpService | RedisService | PostgresService | PrometheusService | HostService | ProcessService,
    Field(discriminator="kind"),
]


class SmokeRequest(StrictModel):
    """An HTTP request sent to an http service, with its headers."""

    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    path: RequestPath = Field(description="appended to the service's url")
    headers: Headers = Field(
        default_factory=dict, description="sent with the service's headers; treated as secrets"
    )
    json_body: JsonValue = Field(default=None, alias="json", description="a body sent as JSON")
    body: str | None = Field(default=None, description="a body sent as text")


class SmokeExpect(StrictModel):
    """What the answer must be; every expectation is judged and each failed one named."""

    status: HttpStatus = Field(default=200, description="a redirect status is judged itself")
    content_type: str | None = Field(default=None, description="media type, parameters ignored")
    json_fields: dict[str, JsonValue] = Field(
        default_factory=dict, alias="json", description="dotted paths and expected values"
    )
    signature: Signature | None = Field(
        default=None, description="binary format the body must have"
    )
    body_contains: str | None = Field(default=None, description="text the body must contain")
    max_latency: PositiveDuration | None = Field(
        default=None, description="latency budget for this request"
    )


class SmokeStep(StrictModel):
    """One post-deploy request and what its answer must be; each step is its own test."""

    name: str = Field(description="the test id; unique in the environment")
    service: str = Field(description="the http service asked")
    request: SmokeRequest
    expect: SmokeExpect = Field(default_factory=SmokeExpect)


HttpMethod = Literal["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
ApiCheck = Literal[
    "server_error", "response_schema", "status_code", "content_type", "auth_required",
    "response_time",
]  # fmt: skip
API_CHECKS: tuple[ApiCheck, ...] = get_args(ApiCheck)
SAFE_METHODS: tuple[HttpMethod, ...] = ("GET", "HEAD", "OPTIONS")
"""The methods an API contract probe calls unless ``allow_methods`` opts in to more."""


class ApiOperationsSpec(StrictModel):
    """Operations of the OpenAPI document: one matches when it matches every key given here
    (a key with several values matches any of them)."""

    paths: list[str] = Field(
        default_factory=list,
        description="path templates as documented (/items/{id}); * matches any run of "
        "characters (/admin/*)",
    )
    methods: list[HttpMethod] = Field(default_factory=list, description="GET, POST, ...")
    tags: list[str] = Field(default_factory=list, description="the operation's OpenAPI tags")

    @field_validator("paths")
    @classmethod
    def _templates(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.startswith(("/", "*")):
                raise ValueError(
                    f"{excerpt(path)} is not a path: write it as documented, from its / "
                    "(/items/{id}, /admin/*)"
                )
        return paths

    @model_validator(mode="after")
    def _some_key(self) -> "ApiOperationsSpec":
        if not (self.paths or self.methods or self.tags):
            raise ValueError("name paths, methods or tags to match, or remove the key")
        return self


class ApiAuthSpec(StrictModel):
    """The probe's credentials: headers, filled in from what token steps captured."""

    steps: list[FlowStepSpec] = Field(
        default_factory=list,
        description="requests run once before the probe (a login), in a flow's vocabulary; "
        "their captures fill ${name} in headers",
    )
    headers: Headers = Field(
        default_factory=dict,
        description="sent with every request but the unauthenticated ones of auth_required; "
        "may use ${name} a step captured",
    )

    @model_validator(mode="after")
    def _some_headers(self) -> "ApiAuthSpec":
        if not self.headers:
            raise ValueError(
                'auth needs headers to send, e.g. headers: {Authorization: "Bearer ${token}"}'
            )
        return self


class ApiContractSpec(StrictModel):
    """Every operation of the service's OpenAPI document probed with generated inputs, valid
    and invalid (Schemathesis and Hypothesis): read-only unless allowed, bounded in examples,
    time and rate."""

    openapi: RequestPath | None = Field(
        default=None,
        description="where the service serves its OpenAPI document (default /openapi.json)",
    )
    openapi_file: FilePath | None = Field(
        default=None,
        description="the OpenAPI document as a file instead, JSON or YAML (relative to this "
        "config file)",
    )
    include: ApiOperationsSpec | None = Field(
        default=None, description="probe only the operations that match (default: all)"
    )
    exclude: ApiOperationsSpec | None = Field(default=None, description="operations never probed")
    checks: list[ApiCheck] = Field(
        default_factory=lambda: list(API_CHECKS), description="the checks run (default: all)"
    )
    examples: Whole = Field(
        default=20, ge=1, le=10_000, description="generated inputs per operation, at most"
    )
    budget: PositiveDuration = Field(
        default=60.0,
        le=3600.0,
        description="wall time of the whole probe (at most 1h); the operations share it and "
        "the probe stops when it is spent",
    )
    rate: Number = Field(default=20.0, gt=0, le=1000, description="requests per second, at most")
    response_time: PositiveDuration = Field(
        default=1.0, description="every answer within this (check response_time)"
    )
    allow_methods: list[Literal["POST", "PUT", "PATCH", "DELETE"]] = Field(
        default_factory=list,
        description="methods that may change state, probed too (only GET, HEAD and OPTIONS "
        "otherwise); refused in a production environment",
    )
    auth: ApiAuthSpec | None = Field(
        default=None,
        description="credentials beyond the service's headers: headers, and steps that fetch "
        "a token",
    )

    @field_validator("allow_methods", mode="before")
    @classmethod
    def _unsafe_only(cls, methods: object) -> object:
        for method in methods if isinstance(methods, list) else ():
            if method in SAFE_METHODS:
                raise ValueError(
                    f"{method} is always probed; list only methods that may change state: "
                    "POST, PUT, PATCH, DELETE"
                )
        return methods

    @model_validator(mode="after")
    def _one_source(self) -> "ApiContractSpec":
        if self.openapi is not None and self.openapi_file is not None:
            raise ValueError(
                "one OpenAPI source: keep openapi (a path on the service) or "
                "openapi_file (a file), not both"
            )
        if not self.checks:
            raise ValueError(
                f"checks: name at least one of {', '.join(API_CHECKS)}, or remove api_contract"
            )
        return self

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods the probe may call."""
        return (*SAFE_METHODS, *self.allow_methods)


HttpService.model_rebuild()


class RuntimeHealth(StrictModel):
    """Defaults of the gate's runtime health item for every service with a runtime: one line
    says "each container under 500 MB"."""

    budget: RuntimeBudget = Field(
        default_factory=RuntimeBudget,
        description="the budget of every service with a runtime; a service's runtime.budget "
        "overrides it key by key",
    )
    restarts: RestartRule = Field(default_factory=RestartRule)
    cpu_window: PositiveDuration = Field(
        default=1.0,
        le=10.0,
        description="how long CPU is sampled, only for services with a cpu budget (at most 10s)",
    )


class Convergence(StrictModel):
    """Post-deploy convergence: retry failing checks until a deadline (goss --retry-timeout)."""

    timeout: Duration = Field(default=0.0, description="0 disables retrying")
    interval: PositiveDuration = Field(default=1.0, description="pause between tries")


_NOT_JUDGED = "accepted, not judged yet (load thresholds are the load profile's)"


class SloTargets(StrictModel):
    """Service level targets; checks, load and DR runs report their figures against these."""

    availability: Number | None = Field(default=None, gt=0, le=1, description=_NOT_JUDGED)
    latency_p95: PositiveDuration | None = Field(default=None, description=_NOT_JUDGED)
    latency_p99: PositiveDuration | None = Field(default=None, description=_NOT_JUDGED)
    error_rate: Number | None = Field(default=None, ge=0, le=1, description=_NOT_JUDGED)
    rto: PositiveDuration | None = Field(
        default=None, description="recovery time objective of every backup source (DR)"
    )
    rpo: Duration | None = Field(
        default=None,
        description="recovery point objective of every backup source, and the age existing "
        "backups must stay under (DR); 0: no data may be lost",
    )


_FAULT_SERVICE = "the service acted on; one of the plan's may_hit"


class ProcessFaultSpec(StrictModel):
    """Kill (SIGKILL), stop (graceful), restart or pause (SIGSTOP) a service's processes."""

    action: Literal["kill", "stop", "restart", "pause"]
    service: str = Field(description=_FAULT_SERVICE)


class MemoryFaultSpec(StrictModel):
    """Exhaust the service's memory: it and a stress-ng stressor share one memory cgroup whose
    limit the stressor overruns, so the kernel's OOM killer acts inside the service's scope."""

    action: Literal["memory"]
    service: str = Field(description=_FAULT_SERVICE)
    limit: Bytes = Field(default=ByteSize(48 << 20), gt=0, description="e.g. 48MiB")
    victim: Literal["service", "stressor"] = Field(
        default="service",
        description="whom the OOM killer should prefer: the service (a leak in the service) "
        "or the stressor (a noisy neighbour inside the same limit)",
    )


class CpuFaultSpec(StrictModel):
    """Saturate the CPU of the service's scope: it and stress-ng share a cgroup with a quota."""

    action: Literal["cpu"]
    service: str = Field(description=_FAULT_SERVICE)
    workers: Whole = Field(default=2, ge=1, le=64, description="stress-ng CPU workers")
    cpus: Number = Field(default=1.0, gt=0, le=1024, description="CPU quota of the scope, in cores")


class DiskFaultSpec(StrictModel):
    """Fill the filesystem of a service's data directory by a bounded number of bytes."""

    action: Literal["disk_fill"]
    service: str = Field(description=_FAULT_SERVICE)
    path: FilePath = Field(
        description="a directory the service writes to (its data directory): on a unit's host "
        "for a systemd service, inside the container (a volume or its writable layer) for docker"
    )
    size: Bytes = Field(gt=0, description="bytes to allocate, e.g. 256MiB")
    keep_free: Bytes = Field(
        default=ByteSize(1 << 30), description="refuse when less than this would stay free"
    )


class NetworkFaultSpec(StrictModel):
    """Disturb a service's traffic to one dependency only; its other traffic is untouched."""

    action: Literal["network"]
    service: str = Field(description=_FAULT_SERVICE)
    dependency: str = Field(description="the redis, postgres or http service it talks to")
    mode: Literal["latency", "loss", "reset", "blackhole"] = Field(
        description="latency: new connections through a delaying proxy; loss: a share of "
        "packets dropped; reset: TCP resets; blackhole: every packet dropped"
    )
    latency: PositiveDuration = Field(default=0.2, description="added one-way delay (mode latency)")
    loss: Number = Field(default=0.3, gt=0, le=1, description="share of packets dropped (loss)")
    address: str | None = Field(
        default=None,
        description="the dependency's IP address as the service reaches it (a local process: "
        "default its URL's; a unit on a host or a container: any address unless given)",
    )
    port: Port | None = Field(
        default=None,
        description="the dependency's TCP port as the service reaches it (default: its URL's)",
    )


FaultSpec = Annotated[
    ProcessFaultSpec | MemoryFaultSpec | CpuFaultSpec | DiskFaultSpec | NetworkFaultSpec,
    Field(discriminator="action"),
]


class ExpectedFlowSpec(StrictModel):
    """A flow whose answers are promised while the fault is in place: its steps written here,
    or a flow of the environment's ``flows`` by name (``flow: upload journey``)."""

    name: str = Field(
        default="", description="a flow of this environment's flows; or this flow's own name"
    )
    service: str | None = Field(
        default=None, description="the http service its steps ask unless a step names one"
    )
    headers: Headers = Field(default_factory=dict, description="sent with every step")
    steps: list[FlowStepSpec] = Field(
        default_factory=list, description="the steps, run in order (none: the flow named)"
    )

    @model_validator(mode="before")
    @classmethod
    def _a_name_is_a_reference(cls, data: object) -> object:
        return {"name": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _steps_or_a_name(self) -> "ExpectedFlowSpec":
        if not self.steps and not self.name:
            raise ValueError(
                "name a flow of this environment (flow: NAME) or write its steps: "
                "{service: api, steps: [{name: ..., request: {path: /}, expect: {...}}]}"
            )
        if self.steps and self.service is None:
            raise ValueError("add service: the http service the flow's steps ask")
        if not self.steps and (self.service is not None or self.headers):
            raise ValueError(
                "a flow by name brings its own service and headers; write steps for a flow "
                "of its own"
            )
        return self

    @property
    def named(self) -> bool:
        """A reference to one of the environment's flows, not a flow of its own."""
        return not self.steps


class ExpectationSpec(StrictModel):
    """What users see while the fault is in place (the promised degradation, or what keeps
    working): one request, or a flow. Judged again and again until it shows (``within``) and
    for as long as it must hold (``hold``)."""

    service: str | None = Field(default=None, description="the http service asked (request)")
    request: FlowRequestSpec | None = Field(
        default=None, description="one request; the flows' vocabulary (uploads, timeout)"
    )
    expect: FlowExpectSpec | None = Field(
        default=None,
        description="what its answer must be: status (503, [502, 503], 5xx), json, "
        "json_absent, body_excludes, max_latency, ... (default: status 200)",
    )
    flow: ExpectedFlowSpec | None = Field(
        default=None,
        description="a flow instead of one request: a flow's name, or {service, steps}; "
        "each step says what its answer must be",
    )
    within: PositiveDuration = Field(default=1.0, description="the answer must show this soon")
    hold: Duration = Field(default=0.0, description="and keep showing for this long")

    @model_validator(mode="after")
    def _a_request_or_a_flow(self) -> "ExpectationSpec":
        if (self.request is None) == (self.flow is None):
            raise ValueError(
                "give one request (service, request, expect) or a flow (flow: NAME, or "
                "flow: {service, steps}), not both or neither"
            )
        if self.request is not None and self.service is None:
            raise ValueError("add service: the http service the request asks")
        if self.flow is not None and (self.service is not None or self.expect is not None):
            raise ValueError(
                "a flow says its service and each step's expect itself; move service and "
                "expect into the flow"
            )
        return self


class RecoveryTargetSpec(StrictModel):
    """When the service counts as recovered after the fault is reverted."""

    within: PositiveDuration = Field(default=30.0, description="deadline from the revert")
    consecutive: Whole = Field(
        default=3, ge=1, le=1000, description="successes in a row that count"
    )
    interval: PositiveDuration = Field(
        default=0.05, le=0.1, description="polling interval, <= 100ms"
    )


class AlertExpectationSpec(StrictModel):
    """An alert the fault must raise: firing in Prometheus and delivered to the run's webhook,
    then resolved after the revert."""

    name: str = Field(description="the alert's name (its alertname label)")
    labels: dict[str, str] = Field(
        default_factory=dict, description="labels the firing alert must carry"
    )
    within: PositiveDuration = Field(
        default=30.0,
        description="from injection to the notification (to firing when no webhook is declared); "
        "less than the experiment's deadline",
    )
    resolved_within: PositiveDuration = Field(
        default=60.0, description="from the revert to the resolved notification"
    )


LoadPhase = Literal["before", "during", "recovering", "after"]
"""Spans of an experiment's background load: before the injection (the baseline), while the
fault is in place, from the revert until the steady state recovered, and after that."""


class PhaseExpectSpec(StrictModel):
    """Limits on what the load's users saw in one phase, k6-threshold style: ``'<= 5%'``,
    ``'< 500ms'``, ``'>= 20'`` (quoted). Judged on the load's whole seconds inside the phase."""

    error_rate: RateLimit | None = Field(
        default=None, description="share of failed requests (status >= 400 or no answer)"
    )
    p50: LatencyLimit | None = Field(default=None, description="median request latency")
    p95: LatencyLimit | None = Field(default=None, description="95th percentile latency")
    p99: LatencyLimit | None = Field(default=None, description="99th percentile latency")
    requests: CountLimit | None = Field(
        default=None, description="requests completed in the phase (e.g. '>= 20': enough to judge)"
    )


class BackgroundLoadSpec(StrictModel):
    """A load profile run in the background through the experiment: started before the
    injection, stopped ``after`` past recovery; its error rate and latency per phase are
    figures, and limits on them are expectations. Needs ``load: allowed``."""

    profile: FilePath = Field(
        description="a load profile file (k6 options, as opsproof run load reads); relative "
        "to this config file's directory"
    )
    locustfile: FilePath | None = Field(
        default=None,
        description="its Locust user classes, relative to this file; default: the reference "
        "service's (load/locustfile.py)",
    )
    service: str | None = Field(
        default=None, description="the http service loaded; default: api, or the only one"
    )
    time_scale: Number = Field(
        default=1.0, gt=0, le=100, description="multiplies every duration of the profile"
    )
    max_requests: Whole = Field(
        default=100_000, ge=1, le=10_000_000, description="hard bound on the requests it sends"
    )
    workers: Whole = Field(default=1, ge=1, le=16, description="Locust worker processes here")
    before: PositiveDuration = Field(
        default=3.0, description="load runs this long before the injection: the baseline"
    )
    after: PositiveDuration = Field(
        default=3.0, description="and this long after the steady state recovered, then stops"
    )
    expect: dict[LoadPhase, PhaseExpectSpec] = Field(
        default_factory=dict,
        description="per phase (before, during, recovering, after): limits on error_rate, "
        "p50, p95, p99, requests",
    )


class ChaosExperimentSpec(StrictModel):
    """Steady state → inject → expected degradation → revert → measured recovery."""

    name: str
    fault: FaultSpec
    expect: list[ExpectationSpec] = Field(default_factory=list)
    duration: Duration = Field(default=1.0, description="how long the fault stays once it shows")
    deadline: PositiveDuration = Field(
        default=60.0, description="the watchdog reverts the fault after this, whatever happens"
    )
    recovery: RecoveryTargetSpec | None = Field(default=None, description="default: the plan's")
    alerts: list[AlertExpectationSpec] = Field(
        default_factory=list,
        description="alerts the fault must raise; the fault stays until they are delivered",
    )
    load: BackgroundLoadSpec | None = Field(
        default=None,
        description="a load profile run through the experiment; figures and limits per phase",
    )
    restart_after_revert: list[str] = Field(
        default_factory=list,
        description="dependants (services with a runtime) that must recover by themselves "
        "within restart_grace of the revert; one that does not is restarted through its "
        "runtime, and the restart is reported as a finding",
    )
    restart_grace: PositiveDuration = Field(
        default=5.0, description="how long a restart_after_revert dependant has to recover alone"
    )

    @model_validator(mode="after")
    def _deadline_covers_alerts(self) -> "ChaosExperimentSpec":
        longest = max((alert.within for alert in self.alerts), default=0.0)
        if longest >= self.deadline:
            raise ValueError(
                f"deadline ({self.deadline:g} s) must exceed the longest alert budget "
                f"(within: {longest:g} s), or the watchdog reverts the fault before the alert "
                "is due; raise deadline"
            )
        return self


class ChaosPlanSpec(StrictModel):
    """The experiments of an environment and what they may touch (needs ``chaos: allowed``)."""

    may_hit: list[str] = Field(description="the only services a fault may act on")
    steady_state: list[str] | None = Field(
        default=None, description="services whose gate probes must pass; default: all of them"
    )
    recovery: RecoveryTargetSpec = Field(default_factory=RecoveryTargetSpec)
    experiments: list[ChaosExperimentSpec] = Field(default_factory=list)


Permission = Literal["allowed", "forbidden"]
ServiceT = TypeVar(
    "ServiceT",
    HttpService,
    RedisService,
    PostgresService,
    PrometheusService,
    HostService,
    ProcessService,
)


class BackupSource(StrictModel):
    """A redis or postgres service the DR suite backs up, restores to scratch and compares."""

    service: str = Field(description="a redis or postgres service declared under services")
    rdb_file: FilePath | None = Field(
        default=None,
        description="redis: the RDB file the server writes, readable from here (a runtime "
        "on a host: the path there, copied over SSH); default: asked with CONFIG GET "
        "(the drill of a container: found through its mounts)",
    )
    max_copy_size: Bytes = Field(
        default=ByteSize(4 << 30),
        gt=0,
        description="a service whose runtime is on a host: the largest RDB (or, with "
        "pg_dump: host, dump) copied from there over SSH; a larger one is refused",
    )
    pg_dump: Literal["here", "host"] = Field(
        default="here",
        description="postgres: here, this machine's pg_dump through the dsn; host: the "
        "host's own pg_dump (the server's version), run over SSH as the data directory's "
        "owner (needs ssh.sudo: true) on the host of the service's runtime",
    )
    rto: PositiveDuration | None = Field(
        default=None, description="recovery time objective; slo.rto"
    )
    rpo: Duration | None = Field(default=None, description="recovery point objective; slo.rpo")
    data_dir: FilePath | None = Field(
        default=None,
        description="the drill: the directory the server keeps its data in, as its runtime "
        "sees it (a container's: the path inside it, in a named volume or bind mount); "
        "default: asked from the server (CONFIG GET dir, SHOW data_directory)",
    )


class DrillScenarioSpec(StrictModel):
    """The DR drill on this deployment: which stores are lost, which services stop while they
    are restored, and what must answer afterwards."""

    lost: list[str] = Field(
        default_factory=list,
        description="backup sources whose data is lost (moved aside, never deleted) and "
        "restored; default: every source",
    )
    stop: list[str] = Field(
        default_factory=list,
        description="services that use the stores, stopped first in this order and started "
        "again in the reverse order once the stores are restored",
    )
    ready: list[str] | None = Field(
        default=None,
        description="services whose gate probes must pass before and after; default: the "
        "stopped services and the stores",
    )
    flows: list[str] = Field(
        default_factory=list, description="flows (declared under flows) that must pass after"
    )


class BackupArtifacts(StrictModel):
    """Backups a team already takes: dated files of one kind, found by a glob."""

    kind: Literal["redis-rdb", "pg-dump", "archive"] = Field(
        description="an RDB file, a pg_dump custom-format archive, or a tar.gz with its manifest"
    )
    path: str = Field(
        min_length=1, description="glob of the backup files, e.g. /backup/app/*/redis-*.rdb"
    )
    source: str | None = Field(
        default=None, description="the backup source they are of (its rpo applies)"
    )
    max_age: PositiveDuration | None = Field(
        default=None, description="the newest must be younger; default: its source's rpo, slo.rpo"
    )
    fingerprints: Literal["if-present", "required"] = Field(
        default="if-present",
        description="compare a restore with <file>.fingerprint.json; required: fail without one",
    )


class BackupConfig(StrictModel):
    """What the DR suite backs up and verifies, which existing backups it validates, and
    whether it may run a drill that destroys and restores the data."""

    store: FilePath | None = Field(
        default=None,
        description="where the suite writes its backups (dated, with .sha256 and "
        ".fingerprint.json beside each); default: a temporary directory",
    )
    sources: dict[str, BackupSource] = Field(default_factory=dict)
    files: dict[str, FilePath] = Field(
        default_factory=dict, description="name: directory archived with a sha256 manifest"
    )
    artifacts: dict[str, BackupArtifacts] = Field(default_factory=dict)
    drill: Permission = Field(
        default="forbidden",
        description="allowed: the DR drill may stop the services, move the data aside and "
        "restore it (the reference stack, or a deployment with a scenario)",
    )
    scenario: DrillScenarioSpec | None = Field(
        default=None, description="the drill on this deployment; the reference stack has its own"
    )
    timeout: PositiveDuration = Field(
        default=1800.0, description="deadline for each backup or restore"
    )


class AlertmanagerConfig(StrictModel):
    """An Alertmanager: the live checks ask it, and experiments ask it why an alert was not
    delivered (silenced, inhibited, routed elsewhere)."""

    url: str = Field(description="http:// or https:// base URL of its API")
    config_file: FilePath | None = Field(
        default=None, description="its alertmanager.yml, checked with amtool check-config"
    )
    receivers: list[str] = Field(
        default_factory=list, description="receivers that must exist, each with an integration"
    )
    timeout: PositiveDuration = Field(default=3.0, description="deadline for every call to it")
    max_body: MaxBody = ByteSize(DEFAULT_MAX_BODY)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        return http_url(url)


class WebhookConfig(StrictModel):
    """Where the run listens for Alertmanager's notifications while an experiment runs; the
    Alertmanager's webhook_configs url must point here."""

    listen: str = Field(description="host:port, e.g. 127.0.0.1:9099")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str) -> str:
        return host_port(listen)


class MonitoringConfig(StrictModel):
    """A team's Prometheus and Alertmanager: their files checked statically, every service
    covered by a down-alert, the live servers checked, and alerts awaited by experiments."""

    prometheus: str | None = Field(
        default=None, description="the prometheus service experiments ask for firing alerts"
    )
    config_file: FilePath | None = Field(
        default=None, description="prometheus.yml, checked with promtool check config"
    )
    rule_files: list[str] = Field(
        default_factory=list,
        description="globs of alert rule files; default: the rule_files of config_file, "
        "else the rules the prometheus service has loaded",
    )
    rule_tests: list[str] = Field(
        default_factory=list, description="globs of rule unit-test files (promtool test rules)"
    )
    alertmanager: AlertmanagerConfig | None = None
    webhook: WebhookConfig | None = Field(
        default=None, description="without it, experiments check that alerts fire, not delivery"
    )
    scrape_jobs: dict[str, list[str]] = Field(
        default_factory=dict,
        description="service: the scrape jobs that watch it; default: the job named like it",
    )
    down_alerts: dict[str, str] = Field(
        default_factory=dict,
        description="service: the alert that fires when it is down; default: found in the rules",
    )
    poll_interval: PositiveDuration = Field(
        default=0.1, gt=0, le=1, description="how often experiments ask Prometheus for alerts"
    )


def _runtime_host(service: object) -> str | None:
    """The host under hosts: that runs ``service`` (a systemd unit or processes there)."""
    runtime = getattr(service, "runtime", None)
    return runtime.host if isinstance(runtime, RuntimeSpec) else None


def _host_dump_problem(env: "Environment", service: object, host: str | None) -> str:
    """Why ``pg_dump: host`` cannot run for ``service``; empty when it can."""
    if not isinstance(service, PostgresService):
        return "pg_dump is for a postgres service; leave it out here"
    if host is None or not env.hosts[host].ssh.sudo:
        return (
            "pg_dump: host runs the host's pg_dump as the data directory's owner: give the "
            "service a runtime on a host (systemd: {unit, host} or process: {match, host}) "
            "and that host ssh.sudo: true, or write pg_dump: here"
        )
    return ""


class Environment(StrictModel):
    """One deployment (staging, production, reference) and everything the suites verify on it."""

    description: str = Field(default="", description="the system's description in OSCAL")
    production: bool = Field(
        default=False,
        description="true marks production: what could change it is refused (an api_contract's "
        "allow_methods) or needs more (a DR drill also needs --i-understand-this-is-production)",
    )
    stack: Literal["reference", "reference-docker"] | None = Field(
        default=None,
        description="endpoints come from the embedded reference stack, run as processes "
        "(reference) or as containers (reference-docker); opsproof run starts it if needed",
    )
    hosts: dict[str, HostSpec] = Field(
        default_factory=dict, description="machines reached over SSH, referenced by name"
    )
    services: dict[str, Service]
    smoke: list[SmokeStep] = Field(default_factory=list)
    flows: list[FlowSpec] = Field(
        default_factory=list, description="user journeys: steps that pass values along"
    )
    slo: SloTargets = Field(default_factory=SloTargets)
    convergence: Convergence = Field(default_factory=Convergence)
    runtime_health: RuntimeHealth = Field(
        default_factory=RuntimeHealth,
        description="budgets and the restart rule for every service with a runtime",
    )
    chaos: Permission = "forbidden"
    chaos_plan: ChaosPlanSpec | None = Field(
        default=None, description="chaos experiments; they run only with chaos: allowed"
    )
    load: Permission = Field(
        default="forbidden", description="allowed: opsproof run load may load it"
    )
    backup: BackupConfig | None = Field(
        default=None, description="backup sources, existing backups and DR drills (opsproof run dr)"
    )
    monitoring: MonitoringConfig | None = Field(
        default=None, description="Prometheus and Alertmanager checks and alerts in experiments"
    )

    @model_validator(mode="after")
    def _smoke_targets_exist(self) -> "Environment":
        http = sorted(name for name, svc in self.services.items() if isinstance(svc, HttpService))
        problems: list[InitErrorDetails] = []
        names: set[str] = set()
        for index, step in enumerate(self.smoke):
            if step.service not in http:
                choices = listing(http) or "none declared"
                message = (
                    f"{excerpt(step.service)} is not an http service here (http services: "
                    f"{choices})"
                )
                problems.append(_located(("smoke", index, "service"), step.service, message))
            if step.name in names:
                message = (
                    f"{excerpt(step.name)} is used twice; smoke step names are test ids, make "
                    "them unique"
                )
                problems.append(_located(("smoke", index, "name"), step.name, message))
            names.add(step.name)
        if problems:
            # a ValidationError keeps each problem's location, so the loader can point at its line
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _host_references_exist(self) -> "Environment":
        """A host service's ``host`` and a systemd or process runtime's ``host`` name declared
        hosts."""
        named: list[tuple[tuple[str | int, ...], str]] = []
        for name, service in self.services.items():
            if isinstance(service, HostService) and service.host is not None:
                named.append((("services", name, "host", "host"), service.host))  # tag, field
            runtime = getattr(service, "runtime", None)
            for way in ("systemd", "process"):
                spec = getattr(runtime, way, None) if runtime is not None else None
                if spec is not None and spec.host is not None:
                    at = ("services", name, service.kind, "runtime", way, "host")
                    named.append((at, spec.host))
        declared = listing(sorted(self.hosts)) or "none declared"
        problems = [
            _located(at, host, f"{excerpt(host)} is not declared under hosts: (hosts: {declared})")
            for at, host in named
            if host not in self.hosts
        ]
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _flow_references_exist(self) -> "Environment":
        http = sorted(self.services_of(HttpService))
        problems: list[InitErrorDetails] = []
        names: set[str] = set()
        for index, flow in enumerate(self.flows):
            at = ("flows", index)
            if flow.name in names:
                message = f"{excerpt(flow.name)} is used twice; flow names are test ids"
                problems.append(_located((*at, "name"), flow.name, message))
            names.add(flow.name)
            problems += _flow_problems(flow, at, http)
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _chaos_references_exist(self) -> "Environment":
        """Flows in expectations (their services, a named flow) and the loaded service."""
        http = sorted(self.services_of(HttpService))
        flows = [flow.name for flow in self.flows]
        problems: list[InitErrorDetails] = []
        experiments = self.chaos_plan.experiments if self.chaos_plan else []
        for index, experiment in enumerate(experiments):
            at = ("chaos_plan", "experiments", index)
            for number, expectation in enumerate(experiment.expect):
                flow, here = expectation.flow, (*at, "expect", number, "flow")
                if flow is None:
                    continue
                if flow.named and flow.name not in flows:
                    hint = did_you_mean(flow.name, flows)
                    message = (
                        f"{excerpt(flow.name)} is not a flow of this environment{hint} "
                        f"(flows: {listing(flows) or 'none declared'}); declare it under "
                        "flows, or write its steps here"
                    )
                    problems.append(_located(here, flow.name, message))
                elif not flow.named:
                    problems += _flow_problems(inline_flow(flow, "expectation"), here, http)
            load = experiment.load
            if load is not None and load.service is not None and load.service not in http:
                message = f"{excerpt(load.service)} is not an http service here ({listing(http)})"
                problems.append(_located((*at, "load", "service"), load.service, message))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _backup_references_exist(self) -> "Environment":
        if self.backup is None:
            return self
        data = sorted(
            n for n, s in self.services.items() if isinstance(s, RedisService | PostgresService)
        )
        problems: list[InitErrorDetails] = []
        for name, source in self.backup.sources.items():
            if source.service not in data:
                choices = listing(data) or "none declared"
                message = (
                    f"{excerpt(source.service)} is not a redis or postgres service here ({choices})"
                )
                problems.append(
                    _located(("backup", "sources", name, "service"), source.service, message)
                )
                continue
            host, rdb = _runtime_host(self.services[source.service]), source.rdb_file
            if host is not None and rdb is not None and not rdb.is_absolute():
                message = (
                    f"the RDB is read on host {host!r}: write its absolute path there, e.g. "
                    "/var/lib/redis/dump.rdb"
                )
                at = ("backup", "sources", name, "rdb_file")
                problems.append(_located(at, str(rdb), message))
            if source.pg_dump == "host":
                message = _host_dump_problem(self, self.services[source.service], host)
                if message:
                    at = ("backup", "sources", name, "pg_dump")
                    problems.append(_located(at, source.pg_dump, message))
        for name, artifacts in self.backup.artifacts.items():
            if artifacts.source is not None and artifacts.source not in self.backup.sources:
                choices = listing(self.backup.sources) or "none declared"
                message = f"{excerpt(artifacts.source)} is not a backup source ({choices})"
                problems.append(
                    _located(("backup", "artifacts", name, "source"), artifacts.source, message)
                )
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _drill_references_exist(self) -> "Environment":
        scenario = self.backup.scenario if self.backup else None
        if scenario is None or self.backup is None:
            return self
        problems = _scenario_problems(self, self.backup, scenario)
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _monitoring_references_exist(self) -> "Environment":
        monitoring = self.monitoring
        problems: list[InitErrorDetails] = []
        prometheus = sorted(self.services_of(PrometheusService))
        if monitoring is not None:
            name = monitoring.prometheus
            if name is not None and name not in prometheus:
                choices = listing(prometheus) or "none declared"
                message = f"{excerpt(name)} is not a prometheus service here ({choices})"
                problems.append(_located(("monitoring", "prometheus"), name, message))
            for key in ("scrape_jobs", "down_alerts"):
                for service in getattr(monitoring, key):
                    if service not in self.services:
                        message = (
                            f"{excerpt(service)} is not a service here ({listing(self.services)})"
                        )
                        problems.append(_located(("monitoring", key, service), service, message))
        experiments = self.chaos_plan.experiments if self.chaos_plan else []
        for index, experiment in enumerate(experiments):
            if experiment.alerts and (monitoring is None or monitoring.prometheus is None):
                message = (
                    "alerts need a Prometheus to ask: set monitoring.prometheus to a prometheus "
                    "service (and monitoring.webhook to observe delivery)"
                )
                loc = ("chaos_plan", "experiments", index, "alerts")
                problems.append(_located(loc, experiment.alerts[0].name, message))
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    @model_validator(mode="after")
    def _api_contracts_fit(self) -> "Environment":
        """Nothing that may change state against production; auth steps' services and
        captures, as a flow's."""
        http = sorted(self.services_of(HttpService))
        problems: list[InitErrorDetails] = []
        for name, service in self.services_of(HttpService).items():
            contract = service.api_contract
            if contract is None:
                continue
            at = ("services", name, "http", "api_contract")
            if self.production and contract.allow_methods:
                message = (
                    "this environment is production: the probe stays read-only (GET, HEAD, "
                    "OPTIONS); remove allow_methods, or probe a staging environment"
                )
                methods = ", ".join(contract.allow_methods)
                problems.append(_located((*at, "allow_methods"), methods, message))
            if contract.auth is not None and contract.auth.steps:
                auth = FlowSpec.model_construct(
                    name="auth", service=name, headers=contract.auth.headers,
                    steps=contract.auth.steps,
                )  # fmt: skip
                problems += _flow_problems(auth, (*at, "auth"), http)
        if problems:
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    def services_of(self, kind: type[ServiceT]) -> dict[str, ServiceT]:
        """The declared services of one kind, by name."""
        return {name: svc for name, svc in self.services.items() if isinstance(svc, kind)}


def inline_flow(flow: ExpectedFlowSpec, name: str) -> FlowSpec:
    """An expectation's own flow as a flow (``name`` when it has none)."""
    assert flow.service is not None
    return FlowSpec.model_construct(
        name=flow.name or name, service=flow.service, headers=flow.headers, steps=flow.steps
    )


def _flow_problems(
    flow: FlowSpec, at: tuple[str | int, ...], http: list[str]
) -> list[InitErrorDetails]:
    """Services that are not http services, step names used twice, a ``${name}`` or a size
    relation that no earlier step provides."""
    problems: list[InitErrorDetails] = []
    if flow.service not in http:
        message = f"{excerpt(flow.service)} is not an http service here ({listing(http) or 'none'})"
        problems.append(_located((*at, "service"), flow.service, message))
    steps: list[str] = []
    captured: list[str] = []
    for index, step in enumerate(flow.steps):
        here = (*at, "steps", index)
        if step.service is not None and step.service not in http:
            message = f"{excerpt(step.service)} is not an http service here ({listing(http)})"
            problems.append(_located((*here, "service"), step.service, message))
        if step.name in steps:
            message = f"{excerpt(step.name)} is used twice in this flow; name each step once"
            problems.append(_located((*here, "name"), step.name, message))
        for used in sorted(_variables_used(step) - set(captured)):
            known = listing(captured) or "none yet"
            message = (
                f"${{{used}}} is captured by no earlier step of this flow (captured so far: "
                f"{known}); capture it first, or export {used} if it is a variable"
            )
            problems.append(_located((*here, "request"), used, message))
        size = step.expect.size
        for key in ("smaller_than", "larger_than"):
            relation = getattr(size, key) if size else None
            if relation and relation.rpartition(".")[0] not in steps:
                message = (
                    f"{excerpt(relation)}: no earlier step is called "
                    f"{excerpt(relation.rpartition('.')[0])} (earlier: {listing(steps) or 'none'})"
                )
                problems.append(_located((*here, "expect", "size", key), relation, message))
        steps.append(step.name)
        captured += step.capture
    for used in sorted(set(_VARIABLE.findall(json.dumps(flow.headers))) - set(captured)):
        message = (
            f"${{{used}}} is captured by no step of this flow (captured: "
            f"{listing(captured) or 'none'}); capture it, or export {used} if it is a variable"
        )
        problems.append(_located((*at, "headers"), used, message))
    return problems


_VARIABLE = re.compile(r"\$\{(" + VARIABLE_NAME + r")\}")


def _variables_used(step: FlowStepSpec) -> set[str]:
    """The ``${name}`` left in a step once the file's own references are filled in."""
    poll = step.poll.model_dump() if step.poll else None
    used = (step.request.model_dump(), step.expect.model_dump(), poll)
    return set(_VARIABLE.findall(json.dumps(used, default=str)))


def _scenario_problems(
    env: "Environment", backup: BackupConfig, scenario: DrillScenarioSpec
) -> list[InitErrorDetails]:
    """Names the drill scenario uses that do not exist here, and, where the drill is allowed,
    services it must stop and start again without a runtime that can do both."""
    at = ("backup", "scenario")
    named: list[tuple[str, list[str], list[str], str]] = [
        ("lost", scenario.lost, sorted(backup.sources), "a backup source"),
        ("stop", scenario.stop, sorted(env.services), "a service"),
        ("ready", scenario.ready or [], sorted(env.services), "a service"),
        ("flows", scenario.flows, [flow.name for flow in env.flows], "a flow"),
    ]
    problems: list[InitErrorDetails] = []
    for key, names, choices, what in named:
        for index, name in enumerate(names):
            if name not in choices:
                message = (
                    f"{excerpt(name)} is not {what} here{did_you_mean(name, choices)} "
                    f"({listing(choices) or 'none declared'})"
                )
                problems.append(_located((*at, key, index), name, message))
    if backup.drill != "allowed":
        return problems
    acted_on = [
        ("lost", index, backup.sources[name].service)
        for index, name in enumerate(scenario.lost or sorted(backup.sources))
        if name in backup.sources
    ] + [("stop", index, name) for index, name in enumerate(scenario.stop) if name in env.services]
    for key, index, service in acted_on:
        runtime = getattr(env.services[service], "runtime", None)
        process = runtime.process if runtime else None
        if runtime is None or (process is not None and not (process.start or process.component)):
            message = (
                f"services.{service} declares no runtime that can start it again; the drill "
                "stops and starts it: add runtime: {process: {pid_file: PATH, start: [COMMAND]}} "
                "or {docker: {container: NAME}}"
            )
            loc = (*at, key, index) if scenario.lost or key == "stop" else (*at,)
            problems.append(_located(loc, service, message))
    return problems


def _located(loc: tuple[str | int, ...], value: str, message: str) -> InitErrorDetails:
    error = PydanticCustomError("invalid_reference", "{message}", {"message": message})
    return InitErrorDetails(type=error, loc=loc, input=value)


class ConfigFile(StrictModel):
    """The whole file: a version and named environments."""

    version: Version = Field(default=1, description="the file format's version")
    controls: Path | None = Field(
        default=None,
        description="your own frameworks and control ids (a catalogue extension file, "
        "relative to this file)",
    )
    environments: dict[str, Environment]
