"""One complete HTTP answer within one deadline and within size limits: every probe's read.

- **Time**: one deadline from the first connect to the body's last byte, covering TLS, the
  request, the headers and every redirect (see :mod:`._deadline`); a peer trickling its
  answer fails at the deadline, and the message names the step it was at.
- **Body**: read streaming and abandoned at ``max_body`` bytes (default 4 MiB), counted after
  decompression so a gzip bomb stops after a few KiB on the wire; a Content-Length over the
  cap fails before any byte is read. Only gzip and deflate are asked for and decoded.
- **Headers**: at most 100 fields, and a head of at most 100 KiB.
- **Redirects**: same-origin redirects are followed, at most 5, and reported; a loop is named.
  A redirect to another origin is reported, not followed (the service's headers may be
  secrets), and so is every redirect when the check expects a redirect status itself.

Whatever is exceeded fails the request with a :class:`FetchError` naming it
(``headers: 10,000 > 100 allowed``); nothing a peer sends can make a probe hang or swell.
"""

from __future__ import annotations

import mmap
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import h11
import httpcore
import httpx
from pydantic import JsonValue

from opsproof.errors import ConfigError, FetchError, UndecodableBody
from opsproof.probes._client import MAX_HEAD_BYTES, BoundedClient, ReadLimits
from opsproof.probes._deadline import Deadline, DeadlineBackend, Exchange
from opsproof.probes._decode import Decoder, decoder_for
from opsproof.support.failures import cause_of, describe_error
from opsproof.support.text import count, excerpt, one_line, quantity

if TYPE_CHECKING:  # a load worker's script reads answers here, and needs no environment model
    from opsproof.config.models import HttpService

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What httpcore raises when it is used directly (peer_certificate), not through httpx.
_CORE_ERRORS = (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError)
_TIMEOUTS = (httpx.TimeoutException, httpcore.TimeoutException)
_WRITE_TIMEOUTS = (httpx.WriteTimeout, httpcore.WriteTimeout)


@dataclass(frozen=True)
class Answer:
    """A response read to its end."""

    status: int
    headers: httpx.Headers
    body: bytes
    latency_s: float
    """From sending the (first) request to the last byte of the body."""
    redirects: tuple[str, ...] = ()
    """Where the request was redirected to, in order."""
    not_followed: str = ""
    """Why a redirect answer was not followed, when it was not."""

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower-cased (``application/json``)."""
        content_type: str = self.headers.get("content-type", "")
        return content_type.partition(";")[0].strip().lower()

    def excerpt(self) -> str:
        """The answer as a short, printable quote for a reason: where a redirect points, the
        body's text when it decodes, else its size and type."""
        location = self.headers.get("location")
        if self.status in _REDIRECTS and location is not None:
            why = f" ({self.not_followed})" if self.not_followed else ""
            return f"redirect to {one_line(location, 120)}{why}"
        return excerpt(self.body, self.media_type)

    def followed(self) -> str:
        """`` after 2 redirects (/a → /b)`` for a pass reason; empty without redirects."""
        if not self.redirects:
            return ""
        hops = len(self.redirects)
        return f" after {hops} redirect{'s' * (hops > 1)} (→ {' → '.join(self.redirects)})"


def http_client(service: HttpService) -> httpx.Client:
    """A client for one service (its headers, CA bundle and ``max_body``); the caller closes it.

    Reuse it across probes of the same service to keep connections open. It is a
    :class:`BoundedClient`, typed as the httpx client callers already hold.
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
    limits = ReadLimits(max_body=int(service.max_body))
    return BoundedClient(headers=service.headers, verify=verify, limits=limits)


def fetch(
    client: httpx.Client,
    method: str,
    url: str,
    timeout: float,
    *,
    headers: dict[str, str] | None = None,
    json: JsonValue = None,
    content: bytes | None = None,
    files: Mapping[str, tuple[str, bytes, str]] | None = None,
    data: Mapping[str, str] | None = None,
    follow_redirects: bool = True,
) -> Answer:
    """Send one request and read the whole answer within ``timeout`` and the client's limits,
    or raise :class:`FetchError` saying what failed or was exceeded.

    ``files`` (field: filename, content, content type) and ``data`` make a multipart body, or
    ``data`` alone a urlencoded one."""
    if not isinstance(client, BoundedClient):
        raise TypeError("fetch needs a BoundedClient: make it with http_client(service)")
    start = time.monotonic()
    deadline = Deadline(timeout, start + timeout)
    try:
        request = client.build_request(
            method, url, headers=headers, json=json, content=content, files=files, data=data
        )
    except (httpx.InvalidURL, httpx.HTTPError, ValueError) as exc:
        raise FetchError(f"request cannot be sent: {one_line(str(exc), 120)}") from exc
    with client.backend.exchange(deadline) as exchange:
        try:
            return _follow(client, request, exchange, follow_redirects, start)
        except (httpx.HTTPError, OSError, UndecodableBody) as exc:
            raise FetchError(_explain(exc, exchange)) from exc


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
    follow_redirects: bool = True,
) -> Answer:
    """:func:`fetch` through the caller's client, or through a one-off client for the service."""
    if client is not None:
        return fetch(
            client, method, url, timeout,
            headers=headers, json=json, content=content, follow_redirects=follow_redirects,
        )  # fmt: skip
    with http_client(service) as own:
        return fetch(
            own, method, url, timeout,
            headers=headers, json=json, content=content, follow_redirects=follow_redirects,
        )  # fmt: skip


def _follow(
    client: BoundedClient,
    request: httpx.Request,
    exchange: Exchange,
    follow: bool,
    start: float,
) -> Answer:
    limits = client.limits
    origin = _origin(request.url)
    visited = [request.url]
    while True:
        exchange.step, exchange.received = "headers", 0
        request.extensions["timeout"] = httpx.Timeout(
            max(exchange.deadline.remaining(), 1e-3)
        ).as_dict()
        response = client.send(request, stream=True)
        try:
            if len(response.headers.raw) > limits.max_headers:
                raise FetchError(
                    f"headers: {count(len(response.headers.raw))} > "
                    f"{count(limits.max_headers)} allowed"
                )
            redirect = response.next_request if follow else None
            not_followed = ""
            if redirect is not None and _origin(redirect.url) != origin:
                not_followed, redirect = "another origin: not followed", None
            if redirect is not None:
                _check_hop(visited, redirect.url, limits)
                visited.append(redirect.url)
                request = redirect
                continue
            exchange.step, exchange.received = "body", 0
            body = _read_body(response, limits, exchange.deadline)
            return Answer(
                response.status_code,
                response.headers,
                body,
                time.monotonic() - start,
                tuple(_shown(url, origin) for url in visited[1:]),
                not_followed,
            )
        finally:
            response.close()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


def _shown(url: httpx.URL, origin: tuple[str, str, int | None]) -> str:
    """A hop as people read it: the path when it stays on the origin, else the whole URL."""
    text = url.raw_path.decode("ascii", "replace") if _origin(url) == origin else str(url)
    return one_line(text, 120)


def _check_hop(visited: list[httpx.URL], target: httpx.URL, limits: ReadLimits) -> None:
    origin = _origin(visited[0])
    chain = " → ".join(_shown(url, origin) for url in [*visited, target])
    hops = len(visited)
    if target in visited:
        raise FetchError(f"redirect loop: {chain} ({hops} redirect{'s' * (hops > 1)})")
    if hops > limits.max_redirects:
        raise FetchError(f"redirects: more than {limits.max_redirects} allowed: {chain}")


def _read_body(response: httpx.Response, limits: ReadLimits, deadline: Deadline) -> bytes:
    """The body, decoded, or :class:`FetchError` once it is over ``limits.max_body`` or past
    the deadline (decompressing is work between reads: 64 MiB of a bomb take a second)."""
    cap = limits.max_body
    coding = response.headers.get("content-encoding", "")
    decoder = decoder_for(coding)
    declared = response.headers.get("content-length", "")
    if decoder is None and declared.isdigit() and int(declared) > cap:
        raise FetchError(
            f"body: {quantity(int(declared))} declared (Content-Length) > "
            f"{quantity(cap)} allowed (max_body)"
        )
    # Anonymous memory reserved for the cap and touched only as far as the body goes: a body
    # over the cap costs the cap and no more (a growing list or buffer costs up to 12% more).
    # A body within it is copied out once, so for a moment it costs twice its size.
    with mmap.mmap(-1, cap) as buffer:
        wire = 0
        for raw in response.iter_raw():
            wire += len(raw)
            for piece in _decoded(decoder, raw):
                if buffer.tell() + len(piece) > cap:
                    raise FetchError(_too_large(cap, decoder, wire))
                if decoder is not None and deadline.remaining() <= 0:
                    raise FetchError(
                        f"body not complete within {deadline.timeout:g}s "
                        f"({quantity(buffer.tell())} {decoder.coding}-decoded "
                        f"from {quantity(wire)} on the wire)"
                    )
                buffer.write(piece)
        if decoder is not None:
            decoder.finish()
        return buffer[: buffer.tell()]


def _decoded(decoder: Decoder | None, raw: bytes) -> Iterable[bytes]:
    return (raw,) if decoder is None else decoder.decode(raw)


def _too_large(cap: int, decoder: Decoder | None, wire: int) -> str:
    message = f"body: > {quantity(cap)} allowed (max_body)"
    if decoder is not None:
        message += f" once {decoder.coding}-decoded, from {quantity(wire)} on the wire"
    return message


def _explain(exc: BaseException, exchange: Exchange) -> str:
    """The failure in words: which step outran the deadline, which limit was exceeded."""
    timeout = exchange.deadline.timeout
    got = f" ({quantity(exchange.received)} received)" if exchange.received else ""
    if isinstance(exc, _TIMEOUTS):
        if isinstance(exc, _WRITE_TIMEOUTS):
            return f"request not sent within {timeout:g}s"
        return {
            "connect": f"no connection within {timeout:g}s",
            "tls": f"TLS handshake not complete within {timeout:g}s{got}",
            "body": f"body not complete within {timeout:g}s{got}",
        }.get(
            exchange.step,
            f"headers not complete within {timeout:g}s{got}"
            if got
            else f"no answer within {timeout:g}s",
        )
    if isinstance(exc, UndecodableBody):
        return f"body: {exc}"
    if _head_too_long(exc):
        return f"headers: more than {quantity(MAX_HEAD_BYTES)} allowed (status line and headers)"
    if isinstance(exc, httpx.RemoteProtocolError) and exchange.step == "body":
        return f"body incomplete: {describe_error(exc, timeout)}"
    return describe_error(exc, timeout)


def _head_too_long(exc: BaseException) -> bool:
    """h11 says so with status hint 431 (Request Header Fields Too Large), its only use."""
    cause = cause_of(exc, h11.RemoteProtocolError)
    return cause is not None and cause.error_status_hint == 431


def peer_certificate(
    host: str, port: int, context: ssl.SSLContext, server_name: str, deadline: Deadline
) -> bytes:
    """Connect, complete a TLS handshake within ``deadline`` and return the peer's DER
    certificate, or raise :class:`FetchError` (the ssl error, if any, as its cause)."""
    backend = DeadlineBackend()
    with backend.exchange(deadline) as exchange:
        try:
            stream = backend.connect_tcp(host, port)
            try:
                tls = stream.start_tls(context, server_hostname=server_name)
                der: bytes | None = tls.get_extra_info("ssl_object").getpeercert(True)
                tls.close()
            finally:
                stream.close()
        except (OSError, *_CORE_ERRORS) as exc:
            raise FetchError(_explain(exc, exchange)) from exc
    if der is None:
        raise FetchError("the server sent no certificate")
    return der
