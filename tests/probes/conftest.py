"""Real servers for the probe tests, on free 127.0.0.1 ports, each stopped by its fixture.

Redis, PostgreSQL (a primary and its streaming replica), an HTTP app (plain, and behind TLS with
certificates generated here), a TCP server that never answers, and hostile peers (hostile.py):
trickles, floods, bombs and lies, and TLS ports that never finish a handshake.
"""

import contextlib
import importlib.util
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from opsproof.support.ports import free_ports


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def write(self, directory: Path, name: str) -> tuple[Path, Path]:
        """Write ``name.pem`` and ``name.key``; return both paths."""
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return cert_path, key_path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(common_name: str) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(cert, key)


def make_leaf(
    issuer: Issued | None,
    names: list[str],
    *,
    valid_for: timedelta = timedelta(days=90),
    valid_from: timedelta = timedelta(days=-1),
) -> Issued:
    """A server certificate for ``names`` (DNS names or IPs); self-signed when no issuer."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0]))
        .issuer_name(issuer.cert.subject if issuer else _name(names[0]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + valid_from)
        .not_valid_after(now + valid_for)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    cert = builder.sign(issuer.key if issuer else key, hashes.SHA256())
    return Issued(cert, key)


PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_until(ready: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready within {timeout:g}s")
        time.sleep(0.05)


def accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class RedisServer:
    """redis-server without persistence, data in its own directory."""

    def __init__(self, directory: Path, *extra: str) -> None:
        self.port = free_ports(1)[0]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        directory.mkdir(parents=True, exist_ok=True)
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.proc = subprocess.Popen(
            [*command, "--appendonly", "no", "--dir", str(directory), *extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: accepts(self.port), f"redis on {self.port}")

    def stop(self) -> None:
        stop(self.proc)


class PostgresServer:
    """A PostgreSQL cluster in ``data``, run as the postgres user when we are root."""

    def __init__(self, data: Path, sockets: Path, *, max_connections: int = 20) -> None:
        self.data, self.sockets = data, sockets
        self.port = free_ports(1)[0]
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.max_connections = max_connections
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def run(args: list[str]) -> None:
        done = subprocess.run(args, capture_output=True, timeout=60, check=False, **as_postgres())
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {done.stderr.decode()}")

    def start(self) -> None:
        log = (self.data.parent / f"{self.data.name}.log").open("ab")
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": self.sockets,
            "max_connections": self.max_connections,
            "fsync": "off",  # a throwaway cluster: speed over durability
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        self.proc = subprocess.Popen(
            [str(PG_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port), *options],
            stdout=log,
            stderr=log,
            **as_postgres(),
        )
        log.close()
        wait_until(self._ready, f"postgres on {self.port}")

    def _ready(self) -> bool:
        result = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, signal.SIGINT)  # fast shutdown: do not wait for clients


def as_postgres() -> dict[str, Any]:
    """PostgreSQL refuses to run as root: switch user when we are root."""
    return {"user": "postgres", "group": "postgres"} if os.geteuid() == 0 else {}


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    return path


def tiny_png() -> bytes:
    """A real 1x1 PNG, built by hand to avoid an imaging dependency."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _metrics_text() -> bytes:
    registry = CollectorRegistry()
    Counter("http_requests", "Requests served", ["route"], registry=registry).labels("/").inc()
    Histogram("request_seconds", "Request latency", registry=registry).observe(0.02)
    return generate_latest(registry)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    png = tiny_png()
    metrics = _metrics_text()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: test output is for failures."""

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, document: object) -> None:
        self._send(status, json.dumps(document).encode(), "application/json; charset=utf-8")

    def do_GET(self) -> None:
        routes: dict[str, Callable[[], None]] = {
            "/health": lambda: self._json(200, {"status": "ok", "checks": {"redis": "up"}}),
            "/broken": lambda: self._json(503, {"error": "redis unavailable"}),
            "/items": lambda: self._json(200, {"data": {"items": [{"id": 7, "ok": True}]}}),
            "/whoami": lambda: self._json(200, {"token": self.headers.get("X-Token")}),
            "/image.png": lambda: self._send(200, self.png, "image/png"),
            "/page": lambda: self._send(200, b"<h1>hello</h1>", "text/html; charset=utf-8"),
            "/metrics": lambda: self._send(200, self.metrics, "text/plain; version=0.0.4"),
            "/slow": self._slow,
        }
        routes.get(self.path, lambda: self._json(404, {"error": "not found"}))()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self._json(201, {"received": json.loads(self.rfile.read(length) or b"null")})

    def _slow(self) -> None:
        time.sleep(0.3)
        self._send(200, b"done", "text/plain")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that abort a TLS handshake on purpose are expected here."""


class HttpApp:
    """The test HTTP app, plain or behind TLS with the given certificate."""

    def __init__(self, cert: Path | None = None, key: Path | None = None) -> None:
        self.server = _QuietServer(("127.0.0.1", 0), _Handler)
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            # Handshake in the handler thread, so one bad client cannot stall accept().
            self.server.socket = context.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
        scheme = "https" if cert else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HangServer:
    """Accepts TCP connections and never answers: the worst kind of unhealthy."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def start_redis(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """Start extra redis-servers (with extra arguments) for one test."""
    servers: list[RedisServer] = []

    def start(*extra: str) -> RedisServer:
        servers.append(RedisServer(tmp_path / str(len(servers)), *extra))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@dataclass(frozen=True)
class Postgres:
    primary: PostgresServer
    replica: PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    # Not under pytest's tmp dir: that is private to root, and PostgreSQL runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="opsproof-probes-pg-"))
    started: list[PostgresServer] = []
    try:
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        sockets = private_dir(root / "sockets")
        primary = PostgresServer(root / "primary", sockets)
        initdb = ["-U", "postgres", "--auth=trust", "--no-sync", "--no-locale", "-E", "UTF8"]
        PostgresServer.run([str(PG_BIN / "initdb"), "-D", str(primary.data), *initdb])
        primary.start()
        started.append(primary)
        replica = PostgresServer(root / "replica", sockets)
        source = f"-h 127.0.0.1 -p {primary.port} -U postgres -R -X stream -c fast".split()
        PostgresServer.run([str(PG_BIN / "pg_basebackup"), "-D", str(replica.data), *source])
        replica.start()
        started.append(replica)
        yield Postgres(primary, replica)
    finally:
        for server in reversed(started):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def http_app() -> Iterator[HttpApp]:
    app = HttpApp()
    yield app
    app.stop()


@pytest.fixture
def hang_server() -> Iterator[HangServer]:
    server = HangServer()
    yield server
    server.stop()


@dataclass(frozen=True)
class TlsStack:
    ca_file: Path
    """The CA that signed ``good``, ``short``, ``expired`` and ``wrong_name``."""
    good: HttpApp
    """Valid 90 days for localhost, *.example.test and 127.0.0.1."""
    short: HttpApp
    """Expires in 3 days and an hour."""
    expired: HttpApp
    wrong_name: HttpApp
    """Valid, but only for other.example."""
    unknown_ca: HttpApp
    """Signed by a CA nobody trusts."""
    self_signed: HttpApp


@pytest.fixture(scope="session")
def tls_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsStack]:
    directory = tmp_path_factory.mktemp("tls")
    ca, rogue = make_ca("opsproof test CA"), make_ca("rogue CA")
    ca_file, _ = ca.write(directory, "ca")
    leaves = {
        "good": make_leaf(ca, ["localhost", "*.example.test", "127.0.0.1"]),
        "short": make_leaf(ca, ["127.0.0.1"], valid_for=timedelta(days=3, hours=1)),
        "expired": make_leaf(
            ca, ["127.0.0.1"], valid_from=timedelta(days=-30), valid_for=timedelta(days=-2)
        ),
        "wrong_name": make_leaf(ca, ["other.example"]),
        "unknown_ca": make_leaf(rogue, ["127.0.0.1"]),
        "self_signed": make_leaf(None, ["127.0.0.1"]),
    }
    apps = {name: HttpApp(*leaf.write(directory, name)) for name, leaf in leaves.items()}
    yield TlsStack(ca_file=ca_file, **apps)
    for app in apps.values():
        app.stop()


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on: what a stopped service looks like from the network."""
    return free_ports(1)[0]


def _sibling(name: str) -> ModuleType:
    """A module beside this conftest (the importlib import mode puts no test dir on sys.path)."""
    spec = importlib.util.spec_from_file_location(
        f"opsproof_tests_{name}", Path(__file__).with_name(f"{name}.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hostile_peers = _sibling("hostile")
HostileServer = hostile_peers.HostileServer
SilentTls = hostile_peers.SilentTls
TricklingTls = hostile_peers.TricklingTls


@pytest.fixture(scope="session")
def hostile() -> Iterator[HostileServer]:
    """The hostile HTTP peer (tests/probes/hostile.py): one pathological answer per path."""
    server = HostileServer()
    yield server
    server.stop()


@pytest.fixture
def silent_tls() -> Iterator[SilentTls]:
    listener = SilentTls()
    yield listener
    listener.stop()


@pytest.fixture
def trickling_tls() -> Iterator[TricklingTls]:
    listener = TricklingTls()
    yield listener
    listener.stop()
