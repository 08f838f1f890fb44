"""Where opsproof, running on the docker host, reaches a compose service: host, port, scheme,
and the health path its compose health check asks for.

A port opsproof knows is written ``${WEB_PORT:-8080}`` (a variable compose already uses is kept
as it is), so one file serves hosts that publish other ports; a port nothing tells is written
``${WEB_PORT}``, so a run refuses until someone says it.
"""

import re
from dataclasses import dataclass, replace

from opsproof.scaffold.compose import ComposeService
from opsproof.scaffold.kinds import HTTP_URL, Kind
from opsproof.scaffold.ports import Published
from opsproof.scaffold.variables import convert, literal

LOOPBACK = "127.0.0.1"
DEFAULT_PORTS = {"redis": 6379, "postgres": 5432, "prometheus": 9090}
PROXY_PORT = 80
TLS_PORTS = (443, 8443)
_URL = re.compile(
    r"(?P<scheme>https?)://(?P<host>\[[^\]]*\]|[^/:\s'\"]+)(?::(?P<port>[^/\s'\"]+))?"
    r"(?P<path>/[^\s'\"]*)?"
)
_PORT_FLAGS = ("--port", "-p", "--listen-port", "--http-port")
_BIND_FLAGS = ("--bind", "-b", "--listen", "--host-port")
_TLS_WORDS = re.compile(r"tls|ssl|cert", re.IGNORECASE)


@dataclass(frozen=True)
class HealthUrl:
    """The URL a compose health check requests."""

    scheme: str
    port: int | None
    path: str


@dataclass(frozen=True)
class Reach:
    host: str
    port: str
    """Text: ``${WEB_PORT:-8080}``, or a reference compose already used."""
    scheme: str = "http"
    guesses: tuple[str, ...] = ()
    number: int | None = None
    """The port as a number when the compose file writes one (its clients' URLs name it)."""
    target: int | None = None
    """The container port it reaches, when published."""


def variable_name(service: str, suffix: str) -> str:
    """``WEB_API_PORT`` for service ``web-api``: an environment variable's name."""
    stem = re.sub(r"[^A-Za-z0-9]+", "_", service).strip("_").upper() or "SERVICE"
    return f"{'S_' if stem[0].isdigit() else ''}{stem}_{suffix}"


def health_url(service: ComposeService) -> HealthUrl | None:
    if service.healthcheck is None:
        return None
    found = _URL.search(" ".join(service.healthcheck.words))
    if found is None or not HTTP_URL.match(found.group(0)):
        return None
    port = found.group("port")
    number = int(port) if port and port.isdigit() else None
    return HealthUrl(found.group("scheme"), number, found.group("path") or "/")


def reach(service: ComposeService, kind: Kind) -> Reach:
    """How opsproof reaches ``service``, and the guesses that took."""
    url = health_url(service) if kind.kind == "http" else None
    wanted = url.port if url and url.port else _default_port(kind)
    if _tls_mount(service, kind):
        published = {p.container_port() for p in service.ports}
        wanted = next((port for port in TLS_PORTS if port in published), wanted)
    variable = variable_name(service.name, "PORT")
    if service.ports:
        found = _reach_published(service, wanted, variable)
    elif service.host_network:
        found = _reach_host_network(service, kind, url, wanted, variable)
    else:
        found = Reach(
            LOOPBACK,
            f"${{{variable}}}",
            guesses=(
                f"GUESS: compose publishes no port of {service.name}: publish one (ports: "
                f"['127.0.0.1:{wanted or 8080}:{wanted or 8080}']) and export {variable}, or run "
                "opsproof where the compose network reaches it",
            ),
        )
    return _with_scheme(found, service, kind, url)


def _reach_host_network(
    service: ComposeService, kind: Kind, url: HealthUrl | None, wanted: int | None, variable: str
) -> Reach:
    listening = _listening_port(service)
    port: int | None
    if url and url.port:
        port, source = url.port, "its health check"
    elif listening:
        port, source = listening, "its command or health check"
    else:
        port, source = wanted, f"the usual port of {kind.kind}" if wanted else "nothing"
    guess = (
        f"GUESS: confirm {service.name} listens on {LOOPBACK}:{port or '?'} (network_mode: host; "
        f"port from {source})"
    )
    text = f"${{{variable}:-{port}}}" if port else f"${{{variable}}}"
    return Reach(LOOPBACK, text, guesses=(guess,), number=port)


def _default_port(kind: Kind) -> int | None:
    if kind.kind in DEFAULT_PORTS:
        return DEFAULT_PORTS[kind.kind]
    return PROXY_PORT if kind.proxy else None


def _reach_published(service: ComposeService, wanted: int | None, variable: str) -> Reach:
    tcp = [p for p in service.ports if p.protocol == "tcp"] or list(service.ports)
    chosen = next((p for p in tcp if p.container_port() == wanted), tcp[0])
    host = _host_of(chosen)
    what = f"the host port compose publishes for container port {chosen.container}"
    if chosen.host is None:
        guess = (
            f"GUESS: the engine picks the host port of container port {chosen.container}; "
            f"`docker compose port {service.name} {chosen.container}` prints it: export {variable}"
        )
        return Reach(host, f"${{{variable}}}", guesses=(guess,))
    written = literal(chosen.host)
    guesses = (f"GUESS: confirm opsproof reaches it at {host}, on {what}",)
    target = chosen.container_port()
    if written is not None and written.isdigit():
        port, number = f"${{{variable}:-{written}}}", int(written)
        return Reach(host, port, guesses=guesses, number=number, target=target)
    if written is not None:  # a range: its first port
        port = f"${{{variable}:-{written.partition('-')[0]}}}"
        return Reach(host, port, guesses=guesses, target=target)
    converted = convert(chosen.host)
    return Reach(host, converted.text, guesses=(*guesses, *converted.notes), target=target)


def _host_of(published: Published) -> str:
    address = published.host_ip
    if address is None or address in ("0.0.0.0", "::", LOOPBACK, "localhost"):
        return LOOPBACK
    return f"[{address}]" if ":" in address else convert(address).text


def _listening_port(service: ComposeService) -> int | None:
    """A port the command or health check names with ``--port N``, ``-p N``, ``--bind H:N``."""
    words = [*service.command, *(service.healthcheck.words if service.healthcheck else ())]
    for index, word in enumerate(words):
        flag, _, attached = word.partition("=")
        value = attached or (words[index + 1] if index + 1 < len(words) else "")
        if flag in _PORT_FLAGS and value.isdigit():
            return int(value)
        if flag in _BIND_FLAGS and value.rpartition(":")[2].isdigit():
            return int(value.rpartition(":")[2])
    return None


def _with_scheme(found: Reach, service: ComposeService, kind: Kind, url: HealthUrl | None) -> Reach:
    if kind.kind != "http":
        return found
    if url is not None and url.scheme == "https":
        return replace(found, scheme="https")
    tls_port = found.number in TLS_PORTS or found.target in TLS_PORTS
    if tls_port or _tls_mount(service, kind):
        why = "its port is a TLS port" if tls_port else "it mounts TLS material"
        guess = f"GUESS: confirm https ({why})"
        return replace(found, scheme="https", guesses=(*found.guesses, guess))
    return found


def _tls_mount(service: ComposeService, kind: Kind) -> bool:
    """A proxy that mounts certificates most likely serves https."""
    return kind.proxy and any(_TLS_WORDS.search(volume) for volume in service.volumes)
