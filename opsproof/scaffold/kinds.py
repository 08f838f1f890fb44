"""Which opsproof kind a compose service is: from its image, else from the programs its command
and health check run, else from what it exposes (an HTTP health check, published ports).

Only the image names the kind with some certainty; every other way is a guess, and says what it
went by.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from opsproof.scaffold.compose import ComposeService
from opsproof.scaffold.variables import literal

PROXIES = ("nginx", "openresty", "traefik", "caddy", "haproxy", "httpd", "envoy")
UNSUPPORTED = (
    "mysql", "mariadb", "mongo", "rabbitmq", "memcached", "elasticsearch", "opensearch",
    "kafka", "zookeeper", "minio", "mailhog", "mailpit",
)  # fmt: skip
"""Servers opsproof has no kind for: their published ports are not HTTP."""
_PROGRAMS = {
    "redis-server": "redis", "redis-cli": "redis", "valkey-server": "redis",
    "postgres": "postgres", "pg_isready": "postgres", "postmaster": "postgres",
    "prometheus": "prometheus", "nginx": "http", "uvicorn": "http", "gunicorn": "http",
    "curl": "http", "wget": "http",
}  # fmt: skip
HTTP_URL = re.compile(r"https?://[^\s'\"]+")


@dataclass(frozen=True)
class Kind:
    """A service's kind (None: opsproof has none for it), what it was told by, and whether that
    is a guess."""

    kind: str | None
    evidence: str
    guessed: bool
    proxy: bool = False


def image_name(image: str | None) -> str | None:
    """``nginx`` for ``docker.io/library/nginx:1.27-alpine@sha256:…``; None when a variable
    decides the image."""
    if image is None or literal(image) is None:
        return None
    repository = image.partition("@")[0]
    return PurePosixPath(repository).name.partition(":")[0].lower() or None


def kind_of(service: ComposeService) -> Kind:
    name = image_name(service.image)
    if name is not None:
        by_image = _by_image(name, f"image {service.image}")
        if by_image is not None:
            return by_image
    words = [PurePosixPath(word).name for word in (*service.command, *_health_words(service))]
    for word in words:
        if word in _PROGRAMS:
            kind = _PROGRAMS[word]
            return Kind(kind, f"it runs {word}", guessed=True, proxy=word == "nginx")
    if service.healthcheck and HTTP_URL.search(" ".join(service.healthcheck.words)):
        return Kind("http", "its health check requests an HTTP URL", guessed=True)
    if service.ports:
        return Kind("http", "it publishes ports", guessed=True)
    return Kind("process", "no port and no HTTP health check: a worker?", guessed=True)


def _by_image(name: str, evidence: str) -> Kind | None:
    if "exporter" in name:
        return Kind("http", evidence, guessed=True)
    if any(word in name for word in ("redis", "valkey", "keydb")):
        return Kind("redis", evidence, guessed=False)
    if any(word in name for word in ("postgres", "postgis", "timescale")):
        return Kind("postgres", evidence, guessed=False)
    if name == "prometheus":
        return Kind("prometheus", evidence, guessed=False)
    if any(name.startswith(proxy) for proxy in PROXIES):
        return Kind("http", evidence, guessed=False, proxy=True)
    if any(name.startswith(server) for server in UNSUPPORTED):
        return Kind(None, f"{evidence}: opsproof has no kind for it", guessed=False)
    return None


def _health_words(service: ComposeService) -> tuple[str, ...]:
    return service.healthcheck.words if service.healthcheck else ()
