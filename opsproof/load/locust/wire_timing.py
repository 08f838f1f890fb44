"""k6's ``http_req_duration`` measured at the socket, for FastHttpUser.

Locust times a request from before it builds it to after it has parsed the answer, so its
figure carries the client's own Python work and the time the worker takes to wake up: about
0.5–0.9 ms on loopback, which is 2% of a 40 ms request. k6 times sending + waiting +
receiving only. Here every connection geventhttpclient opens is wrapped: the duration runs
from just before the request's first byte is written to the moment the response's last byte
reached the socket — the kernel's receive timestamp (``SO_TIMESTAMPING``) on plain TCP, the
read's return on TLS (the TLS layer reads the socket in C, out of reach). Connection set-up is
excluded, as in k6; a redirected request sums its hops. No library exposes these points, so
this wraps the two geventhttpclient/Locust entry points it needs, in the worker process only.

A request with no socket exchange (refused connection, another user class) keeps Locust's time.
"""

import functools
import socket
import ssl
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gevent.ssl
from gevent import getcurrent

SO_TIMESTAMPING = getattr(socket, "SO_TIMESTAMPING", 37)
RX_SOFTWARE_STAMPS = (1 << 3) | (1 << 4)
"""SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE: stamp on arrival, report it."""
ANCILLARY_BYTES = 64
"""Room for one scm_timestamping (three timespecs)."""
TIMESPEC = struct.Struct("qq")


@dataclass(slots=True)
class Exchange:
    """One Locust request's time on the wire (``time.time()`` seconds, the kernel's clock)."""

    sent: float | None = None
    received: float | None = None
    earlier_hops: float = 0.0

    def sending(self, now: float) -> None:
        """A write: the first of the request, or the first of a redirect's next hop."""
        if self.sent is None:
            self.sent = now
        elif self.received is not None:
            self.earlier_hops += self.received - self.sent
            self.sent, self.received = now, None

    def seconds(self) -> float | None:
        if self.sent is None or self.received is None or self.received < self.sent:
            return None
        return self.earlier_hops + self.received - self.sent


_exchanges: dict[object, Exchange] = {}
"""The current request of each user greenlet; replaced by its next request, read once."""


def begin() -> None:
    """A new request starts in the calling greenlet."""
    _exchanges[getcurrent()] = Exchange()


def take() -> float | None:
    """The calling greenlet's last request's time on the wire, in seconds, once."""
    exchange = _exchanges.pop(getcurrent(), None)
    return None if exchange is None else exchange.seconds()


class TimedSocket:
    """A geventhttpclient connection that stamps the current greenlet's exchange; every other
    attribute is the wrapped socket's."""

    __slots__ = ("_sock", "kernel_stamped")

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.kernel_stamped = _stamp_arrivals(sock)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        exchange = _exchanges.get(getcurrent())
        if exchange is not None:
            exchange.sending(time.time())
        self._sock.sendall(data, flags)

    def recv(self, size: int, flags: int = 0) -> Any:
        exchange = _exchanges.get(getcurrent())
        if exchange is None:
            return self._sock.recv(size, flags)
        if not self.kernel_stamped:
            data = self._sock.recv(size, flags)
            exchange.received = time.time()
            return data
        data, ancillary, _, _ = self._sock.recvmsg(size, ANCILLARY_BYTES, flags)
        exchange.received = _arrival(ancillary) or time.time()
        return data


def _stamp_arrivals(sock: Any) -> bool:
    """Ask the kernel to stamp arriving data; False where it cannot (TLS, other families)."""
    if isinstance(sock, ssl.SSLSocket | gevent.ssl.SSLSocket):
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, RX_SOFTWARE_STAMPS)
    except (OSError, AttributeError):
        return False
    return True


def _arrival(ancillary: list[tuple[int, int, bytes]]) -> float | None:
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING and len(payload) >= 16:
            seconds, nanoseconds = TIMESPEC.unpack_from(payload)
            if seconds:
                return float(seconds) + float(nanoseconds) / 1e9
    return None


def install() -> None:
    """Wrap new connections and mark each FastHttpSession request's start (once per process;
    importing Locust patches the process for gevent, so only a worker may call this)."""
    from geventhttpclient.connectionpool import ConnectionPool
    from locust.contrib.fasthttp import FastHttpSession

    if getattr(ConnectionPool._create_socket, "_opsproof", False):
        return
    create: Callable[[ConnectionPool], Any] = ConnectionPool._create_socket
    request: Callable[..., Any] = FastHttpSession.request

    @functools.wraps(create)
    def timed_create(pool: ConnectionPool) -> TimedSocket:
        return TimedSocket(create(pool))

    @functools.wraps(request)
    def marked_request(session: FastHttpSession, *args: Any, **kwargs: Any) -> Any:
        begin()
        return request(session, *args, **kwargs)

    timed_create._opsproof = True  # type: ignore[attr-defined]
    ConnectionPool._create_socket = timed_create  # type: ignore[method-assign,assignment]
    FastHttpSession.request = marked_request  # type: ignore[method-assign,assignment]
