"""One complete HTTP answer within a deadline, for the http, metrics and prometheus probes."""

import ssl
import time
from dataclasses import dataclass

import httpx
from pydantic import JsonValue

from opsproof.config.models import HttpService
from opsproof.errors import ConfigError
from opsproof.probes._common import one_line


@dataclass(frozen=True)
class Answer:
    """A response read to its end."""

    status: int
    headers: httpx.Headers
    body: bytes
    latency_s: float
    """From sending the request to the last byte of the body."""

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased (``application/json``)."""
        content_type: str = self.headers.get("content-type", "")
        return content_type.partition(";")[0].strip().lower()

    def excerpt(self) -> str:
        """The body as a short quote for a reason: text when it decodes, else its size and type."""
        try:
            return one_line(self.body.decode())
        except UnicodeDecodeError:
            return f"<{len(self.body)} bytes of {self.media_type or 'unknown type'}>"


def http_client(service: HttpService) -> httpx.Client:
    """A client for one service (its headers, CA bundle and timeout); the caller closes it.

    Environment proxies are ignored: a probe observes the service itself, not a proxy's view.
    Redirects are not followed, so a probe sees the status the service really answers.
    """
    verify: ssl.SSLContext | bool = True
    if service.ca_file is not None:
        try:
            verify = ssl.create_default_context(cafile=service.ca_file)
        except OSError as exc:
            raise ConfigError(
                f"ca_file {service.ca_file}: cannot load it as a PEM CA bundle ({exc}); "
                "point ca_file at the CA certificate that signed the service's certificate"
            ) from exc
    return httpx.Client(
        headers=service.headers,
        verify=verify,
        timeout=service.timeout,
        follow_redirects=False,
        trust_env=False,
    )


def fetch(
    client: httpx.Client,
    method: str,
    url: str,
    timeout: float,
    *,
    headers: dict[str, str] | None = None,
    json: JsonValue = None,
    content: bytes | None = None,
) -> Answer:
    """Send one request and read the whole body, or raise ``TimeoutError`` past ``timeout``.

    httpx timeouts bound each network operation; the deadline here also bounds a server that
    trickles its answer byte by byte.
    """
    start = time.monotonic()
    deadline = start + timeout
    request = client.build_request(
        method, url, headers=headers, json=json, content=content, timeout=timeout
    )
    response = client.send(request, stream=True)
    try:
        chunks: list[bytes] = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise TimeoutError(f"answer not complete within {timeout:g}s")
    finally:
        response.close()
    return Answer(
        response.status_code, response.headers, b"".join(chunks), time.monotonic() - start
    )


def fetch_from(
    service: HttpService,
    client: httpx.Client | None,
    method: str,
    url: str,
    timeout: float,
    *,
    headers: dict[str, str] | None = None,
    json: JsonValue = None,
    content: bytes | None = None,
) -> Answer:
    """:func:`fetch` through the caller's client, or through a one-off client for the service."""
    if client is not None:
        return fetch(client, method, url, timeout, headers=headers, json=json, content=content)
    with http_client(service) as own:
        return fetch(own, method, url, timeout, headers=headers, json=json, content=content)
