"""The stack's declared components: files, commands and interpolation values.

nginx (TLS) → api (uvicorn) → redis + postgres, and a worker; every port on 127.0.0.1, every
file under the stack's root directory.
"""

import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from opsproof.errors import StackError
from opsproof.paths import FIXTURES
from opsproof.stack.certs import TlsFiles
from opsproof.support.ports import LOOPBACK
from opsproof.support.processes import ComponentState
from opsproof.support.programs import find_program, postgres_bin_dir

HOST = LOOPBACK
POSTGRES_USER = "opsproof"
POSTGRES_DATABASE = "opsproof"
POSTGRES_OS_USER = "postgres"
START_ORDER = ("redis", "postgres", "api", "worker", "nginx")

_STOP_SIGNALS = {"postgres": signal.SIGINT}
"""SIGINT is PostgreSQL's fast shutdown; its SIGTERM would wait for clients to disconnect."""


def stop_signal(name: str) -> signal.Signals:
    return _STOP_SIGNALS.get(name, signal.SIGTERM)


@dataclass(frozen=True)
class Ports:
    nginx: int
    api: int
    redis: int
    postgres: int


@dataclass(frozen=True)
class Layout:
    """Where everything lives under the stack's root directory."""

    root: Path

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def tls(self) -> Path:
        return self.root / "tls"

    @property
    def nginx(self) -> Path:
        return self.root / "nginx"

    @property
    def redis_data(self) -> Path:
        return self.root / "redis"

    @property
    def postgres_data(self) -> Path:
        return self.root / "postgres" / "data"

    @property
    def postgres_run(self) -> Path:
        """The server's Unix socket directory, private to its OS user."""
        return self.root / "postgres" / "run"

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"


def service_dir() -> Path:
    """The directory holding the ``reference_service`` package (shipped: fixtures/)."""
    if not (FIXTURES / "reference_service" / "app.py").is_file():
        raise StackError(f"{FIXTURES}/reference_service not found: reinstall opsproof")
    return FIXTURES


def write_nginx_conf(layout: Layout, ports: Ports, tls: TlsFiles) -> Path:
    """nginx terminating TLS and proxying to the API; every path it writes is under root."""
    base = layout.nginx
    temp = base / "temp"
    temp.mkdir(parents=True, exist_ok=True)
    conf = base / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 1;
pid {base}/nginx.pid;
error_log {layout.log("nginx")} notice;

events {{
    worker_connections 1024;
}}

http {{
    access_log {layout.logs}/nginx-access.log;
    client_body_temp_path {temp}/client_body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server_tokens off;

    upstream api {{
        server {HOST}:{ports.api};
        keepalive 16;
    }}

    server {{
        listen {HOST}:{ports.nginx} ssl;
        server_name {tls.hostname};
        ssl_certificate {tls.cert_file};
        ssl_certificate_key {tls.key_file};
        ssl_protocols TLSv1.2 TLSv1.3;

        location / {{
            proxy_pass http://api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Request-ID $request_id;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
        }}
    }}
}}
"""
    )
    return conf


def declare(
    layout: Layout, ports: Ports, password: str, tls: TlsFiles
) -> dict[str, ComponentState]:
    """Every component, in start order, not yet started (pid 0)."""
    redis_url = f"redis://{HOST}:{ports.redis}/0"
    dsn = _dsn(ports, password)
    service_env = {
        "OPSPROOF_REDIS_URL": redis_url,
        "OPSPROOF_POSTGRES_DSN": dsn,
        "PYTHONUNBUFFERED": "1",
    }
    fixtures = str(service_dir())
    nginx = find_program("nginx", Path("/usr/sbin"), package="nginx-light")
    components = [
        ComponentState(
            name="redis",
            pid=0,
            command=[
                find_program("redis-server", package="redis-server"),
                *("--bind", HOST, "--port", str(ports.redis), "--dir", str(layout.redis_data)),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"),
            ],
            port=ports.redis,
            url=redis_url,
        ),
        ComponentState(
            name="postgres",
            pid=0,
            command=[
                str(postgres_bin_dir() / "postgres"),
                *("-D", str(layout.postgres_data), "-p", str(ports.postgres)),
                *("-c", f"listen_addresses={HOST}"),
                *("-c", f"unix_socket_directories={layout.postgres_run}"),
            ],
            cwd=str(layout.postgres_data.parent),
            port=ports.postgres,
            url=f"postgresql://{POSTGRES_USER}@{HOST}:{ports.postgres}/{POSTGRES_DATABASE}",
            user=POSTGRES_OS_USER,
        ),
        ComponentState(
            name="api",
            pid=0,
            command=[
                sys.executable,
                *("-m", "uvicorn", "--factory", "reference_service.app:create_app"),
                *("--host", HOST, "--port", str(ports.api), "--no-access-log"),
                *("--proxy-headers", "--forwarded-allow-ips", HOST),
                *("--timeout-graceful-shutdown", "5"),
            ],
            env=service_env,
            cwd=fixtures,
            port=ports.api,
            url=f"http://{HOST}:{ports.api}",
        ),
        ComponentState(
            name="worker",
            pid=0,
            command=[sys.executable, "-m", "reference_service.worker"],
            env=service_env,
            cwd=fixtures,
        ),
        ComponentState(
            name="nginx",
            pid=0,
            command=[
                nginx,
                *("-p", str(layout.nginx), "-c", str(layout.nginx / "nginx.conf")),
                *("-e", str(layout.log("nginx"))),
            ],
            port=ports.nginx,
            url=f"https://{HOST}:{ports.nginx}",
        ),
    ]
    for component in components:
        component.log_file = str(layout.log(component.name))
    return {c.name: c for c in components}


def _dsn(ports: Ports, password: str) -> str:
    return f"postgresql://{POSTGRES_USER}:{password}@{HOST}:{ports.postgres}/{POSTGRES_DATABASE}"


def values(
    layout: Layout, ports: Ports, password: str, tls: TlsFiles, state_file: Path
) -> dict[str, str]:
    """The ``${stack.<key>}`` interpolation values."""
    return {
        "root": str(layout.root),
        "state_file": str(state_file),
        "api.url": f"https://{HOST}:{ports.nginx}",
        "api.direct_url": f"http://{HOST}:{ports.api}",
        "nginx.port": str(ports.nginx),
        "api.port": str(ports.api),
        "tls.ca_file": str(tls.ca_file),
        "tls.cert_file": str(tls.cert_file),
        "tls.key_file": str(tls.key_file),
        "tls.hostname": tls.hostname,
        "redis.host": HOST,
        "redis.port": str(ports.redis),
        "redis.url": f"redis://{HOST}:{ports.redis}/0",
        "redis.data_dir": str(layout.redis_data),
        "postgres.host": HOST,
        "postgres.port": str(ports.postgres),
        "postgres.user": POSTGRES_USER,
        "postgres.password": password,
        "postgres.database": POSTGRES_DATABASE,
        "postgres.dsn": _dsn(ports, password),
        "postgres.data_dir": str(layout.postgres_data),
        "postgres.socket_dir": str(layout.postgres_run),
        "postgres.bin_dir": str(postgres_bin_dir()),
    }


def stale_files(name: str, values: dict[str, str]) -> list[Path]:
    """Lock files a killed component leaves behind that would stop it starting again:
    PostgreSQL refuses to start while the PID in them exists, and a killed postmaster whose
    parent does not reap it stays a zombie with that PID. Remove only once its group is gone."""
    if name != "postgres":
        return []
    sockets = Path(values["postgres.socket_dir"])
    return [Path(values["postgres.data_dir"]) / "postmaster.pid", *sockets.glob(".s.PGSQL.*.lock")]
