"""The one HTTP client of every probe: httpx on a connection pool whose sockets keep a deadline.

httpx builds requests and parses URLs; its default transport cannot take a network backend,
so :class:`BoundedTransport` is the same few lines over an ``httpcore.ConnectionPool`` given the
:class:`~opsproof.probes._deadline.DeadlineBackend`, mapping httpcore's errors to httpx's as
httpx's own transport does. Reading an answer within its limits is :mod:`._fetch`'s job.
"""

import ssl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpcore
import httpx

from opsproof.config.values import DEFAULT_MAX_BODY
from opsproof.probes._deadline import DeadlineBackend
from opsproof.probes._decode import ACCEPT_ENCODING

MAX_HEADERS = 100
MAX_REDIRECTS = 5
MAX_HEAD_BYTES = 100 * 1024
"""The status line and headers together: h11's buffer limit as httpcore sets it (not ours to
change without patching httpcore)."""

# Most specific first: every httpcore error is one of these, and each maps to its httpx twin.
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@dataclass(frozen=True)
class ReadLimits:
    """How much of an answer a probe reads before it calls the answer a failure."""

    max_body: int = DEFAULT_MAX_BODY
    """Body bytes after decompression (the service's ``max_body``)."""
    max_headers: int = MAX_HEADERS
    max_redirects: int = MAX_REDIRECTS
    """Same-origin redirects followed before the answer is called a failure."""


def _raise_mapped(exc: Exception, request: httpx.Request) -> None:
    """Raise httpx's twin of an httpcore error (the original as its cause); others go on."""
    for core, mapped in _ERRORS:
        if isinstance(exc, core):
            raise mapped(str(exc), request=request) from exc


class _Body(httpx.SyncByteStream):
    """httpcore's response stream, with its errors in httpx's terms."""

    def __init__(self, stream: httpcore.Response, request: httpx.Request) -> None:
        self._stream = stream
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._stream.iter_stream()
        except Exception as exc:
            _raise_mapped(exc, self._request)
            raise

    def close(self) -> None:
        self._stream.close()  # an unread rest is not drained: the connection is dropped


class BoundedTransport(httpx.BaseTransport):
    """HTTP/1.1 over :class:`DeadlineBackend`'s sockets (the deadline lives there).

    Plain and TLS connections have a pool each; the TLS one, and its SSL context, are made at
    the first https request: loading a CA store costs 0.15 s, a tenth of a short deadline.
    """

    def __init__(self, verify: ssl.SSLContext | bool, backend: DeadlineBackend) -> None:
        self._verify = verify
        self._backend = backend
        self._plain = self._pool(None)
        self._tls: httpcore.ConnectionPool | None = None
        self._lock = threading.Lock()

    def _pool(self, context: ssl.SSLContext | None) -> httpcore.ConnectionPool:
        return httpcore.ConnectionPool(
            ssl_context=context,
            network_backend=self._backend,
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
        )

    def _pool_for(self, scheme: bytes) -> httpcore.ConnectionPool:
        if scheme != b"https":
            return self._plain
        with self._lock:
            if self._tls is None:
                context = httpx.create_ssl_context(verify=self._verify, trust_env=False)
                self._tls = self._pool(context)
            return self._tls

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            answer = self._pool_for(request.url.raw_scheme).handle_request(core)
        except Exception as exc:
            _raise_mapped(exc, request)
            raise
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(answer, request),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        self._plain.close()
        if self._tls is not None:
            self._tls.close()


class BoundedClient(httpx.Client):
    """An httpx client whose every request :func:`~opsproof.probes._fetch.fetch` bounds in
    time (one deadline from connect to the body's last byte) and size (``limits``).

    Environment proxies are ignored (a probe observes the service itself, not a proxy's view)
    and redirects are followed by ``fetch`` only, within its limits.
    """

    def __init__(
        self,
        *,
        headers: Mapping[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
        limits: ReadLimits | None = None,
    ) -> None:
        self.backend = DeadlineBackend()
        self.limits = limits or ReadLimits()
        super().__init__(
            headers={"Accept-Encoding": ACCEPT_ENCODING, **(headers or {})},
            transport=BoundedTransport(verify, self.backend),
            follow_redirects=False,
            trust_env=False,
        )
