"""The stack's containers: command, user, mounts, limits and health check of each.

Every container uses the host's network and binds 127.0.0.1 only (the engine runs without a
bridge), runs as an unprivileged user with every capability dropped, and keeps its data in a
named volume, so backups and restores act on the volume as they would in production.
"""

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from opsproof.stack.components import HOST, POSTGRES_DATABASE, POSTGRES_USER, Layout, Ports
from opsproof.stack.docker.rootfs import NOBODY, POSTGRES_UID
from opsproof.support.programs import postgres_bin_dir

SECOND_NS = 1_000_000_000
POSTGRES_DATA = "/var/lib/postgresql/data"
REDIS_DATA = "/data"
RESTART_POLICY = {"Name": "unless-stopped"}
"""Back after a crash or an OOM kill; not after ``docker stop`` or ``docker kill``."""
MEMORY_LIMITS = {"redis": 128 << 20, "postgres": 256 << 20, "api": 256 << 20}
DEFAULT_MEMORY_LIMIT = 128 << 20
DATA_VOLUMES = {"redis": REDIS_DATA, "postgres": POSTGRES_DATA}


@dataclass(frozen=True)
class ContainerSpec:
    component: str
    command: list[str]
    user: str
    environment: dict[str, str] = field(default_factory=dict)
    binds: dict[str, str] = field(default_factory=dict)
    """Host directory → the same path in the container (read-write)."""
    health: list[str] | None = None
    """Health check command (``CMD`` form); None: the engine reports no health."""

    @property
    def mem_limit(self) -> int:
        return MEMORY_LIMITS.get(self.component, DEFAULT_MEMORY_LIMIT)


def container_name(project: str, component: str) -> str:
    return f"{project}-{component}"


def volume_name(project: str, component: str) -> str:
    return f"{project}-{component}-data"


def _postgres_script(port: int, socket_dir: Path) -> str:
    """Initialise the cluster on first start (an empty volume), then run the server: what
    the entrypoint of a PostgreSQL image does."""
    bin_dir = postgres_bin_dir()
    initdb = [
        str(bin_dir / "initdb"),
        *("-D", POSTGRES_DATA, "-U", "postgres"),
        *("--auth-local=trust", "--auth-host=scram-sha-256"),
        *("-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"),
    ]
    server = [
        str(bin_dir / "postgres"),
        *("-D", POSTGRES_DATA, "-p", str(port)),
        *("-c", f"listen_addresses={HOST}", "-c", f"unix_socket_directories={socket_dir}"),
        *("-c", "jit=off"),
    ]
    return (
        f"[ -s {POSTGRES_DATA}/PG_VERSION ] || {shlex.join(initdb)} >/dev/null\n"
        f"exec {shlex.join(server)}"
    )


def _http_health(url: str) -> list[str]:
    code = f"import urllib.request; urllib.request.urlopen({url!r}, timeout=1)"
    return ["python3", "-c", code]


def specs(layout: Layout, ports: Ports, password: str) -> list[ContainerSpec]:
    """Every container in start order."""
    dsn = f"postgresql://{POSTGRES_USER}:{password}@{HOST}:{ports.postgres}/{POSTGRES_DATABASE}"
    service_env = {
        "OPSPROOF_REDIS_URL": f"redis://{HOST}:{ports.redis}/0",
        "OPSPROOF_POSTGRES_DSN": dsn,
        "PYTHONUNBUFFERED": "1",
    }
    nobody, postgres = f"{NOBODY}:{NOBODY}", f"{POSTGRES_UID}:{POSTGRES_UID}"
    redis_cli = ["redis-cli", "-h", HOST, "-p", str(ports.redis), "ping"]
    pg_isready = [str(postgres_bin_dir() / "pg_isready"), "-h", HOST, "-p", str(ports.postgres)]
    return [
        ContainerSpec(
            "redis",
            [
                "redis-server",
                *("--bind", HOST, "--port", str(ports.redis), "--dir", REDIS_DATA),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"),
            ],
            nobody,
            health=redis_cli,
        ),
        ContainerSpec(
            "postgres",
            ["sh", "-c", _postgres_script(ports.postgres, layout.postgres_run)],
            postgres,
            binds={str(layout.postgres_run): str(layout.postgres_run)},
            health=pg_isready,
        ),
        ContainerSpec(
            "api",
            [
                *("python3", "-m", "uvicorn", "--factory", "reference_service.app:create_app"),
                *("--host", HOST, "--port", str(ports.api), "--no-access-log"),
                *("--proxy-headers", "--forwarded-allow-ips", HOST),
                *("--timeout-graceful-shutdown", "5"),
            ],
            nobody,
            environment=service_env,
            health=_http_health(f"http://{HOST}:{ports.api}/health"),
        ),
        ContainerSpec("worker", ["python3", "-m", "reference_service.worker"], nobody, service_env),
        ContainerSpec(
            "nginx",
            [
                *("nginx", "-p", str(layout.nginx), "-c", str(layout.nginx / "nginx.conf")),
                *("-e", str(layout.log("nginx"))),
            ],
            nobody,
            binds={str(p): str(p) for p in (layout.nginx, layout.logs, layout.tls)},
        ),
    ]


def create_options(
    spec: ContainerSpec, project: str, image: str, labels: dict[str, str]
) -> dict[str, object]:
    """Keyword arguments for ``client.containers.create``."""
    volumes: dict[str, dict[str, str]] = {
        host: {"bind": inside, "mode": "rw"} for host, inside in spec.binds.items()
    }
    if spec.component in DATA_VOLUMES:
        volumes[volume_name(project, spec.component)] = {
            "bind": DATA_VOLUMES[spec.component],
            "mode": "rw",
        }
    options: dict[str, object] = {
        "image": image,
        "command": spec.command,
        "name": container_name(project, spec.component),
        "user": spec.user,
        "environment": spec.environment,
        "volumes": volumes,
        "network_mode": "host",
        "restart_policy": RESTART_POLICY,
        "mem_limit": spec.mem_limit,
        "memswap_limit": spec.mem_limit,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "read_only": True,
        "tmpfs": {"/tmp": "size=16m"},  # noqa: S108 (the container's own /tmp, not ours)
        "labels": {**labels, "opsproof.component": spec.component},
        "detach": True,
    }
    if spec.health:
        options["healthcheck"] = {
            "test": ["CMD", *spec.health],
            "interval": SECOND_NS,
            "timeout": 2 * SECOND_NS,
            "retries": 3,
            "start_period": 30 * SECOND_NS,
        }
    return options
