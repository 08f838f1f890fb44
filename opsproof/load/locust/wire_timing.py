"""k6's request timings measured at the socket, for FastHttpUser: ``http_req_duration`` and
its parts ``http_req_sending``, ``http_req_waiting``, ``http_req_receiving``, and ``data_sent``.

Locust times a request from before it builds it to after it has parsed the answer, so its
figure carries the client's own Python work and the time the worker takes to wake up: about
0.5–0.9 ms on loopback, which is 2% of a 40 ms request. k6 times sending + waiting +
receiving only. Here every connection geventhttpclient opens is wrapped: the duration runs
from just before the request's first byte is written to the moment the response's last byte
reached the socket — the kernel's receive timestamp (``SO_TIMESTAMPING``) on plain TCP, the
read's return on TLS (the TLS layer reads the socket in C, out of reach). Connection set-up is
excluded, as in k6; a redirected request sums its hops. Waiting ends, and receiving begins,
at the arrival of what the response's first read returned. No library exposes these points, so
this wraps the two geventhttpclient/Locust entry points it needs, in the worker process only.

A request with no socket exchange (refused connection, another user class) keeps Locust's time.
The kernel turns arrival stamps on for the whole system in deferred work, a moment after the
first socket asks: an answer that arrives before then is timed at its read, as on TLS.
"""

import functools
import socket
import ssl
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import gevent.ssl
from gevent import getcurrent

SO_TIMESTAMPING = getattr(socket, "SO_TIMESTAMPING", 37)
RX_SOFTWARE_STAMPS = (1 << 3) | (1 << 4)
"""SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE: stamp on arrival, report it."""
ANCILLARY_BYTES = 64
"""Room for one scm_timestamping (three timespecs)."""
TIMESPEC = struct.Struct("qq")


class WireTimes(NamedTuple):
    """k6's request timings, in seconds: duration = sending + waiting + receiving. A tuple: one
    is built per request, and the worker reads them as columns."""

    duration: float
    sending: float
    waiting: float
    receiving: float
    bytes_sent: int


@dataclass(slots=True)
class WireExchange:
    """One Locust request on the wire (``time.time()`` seconds, the kernel's clock): the
    current hop's marks, and the phases of the hops before it (redirects)."""

    sent: float | None = None
    """Before the hop's first write."""
    written: float | None = None
    """After its last write."""
    first_byte: float | None = None
    """Arrival of the data its first read returned."""
    received: float | None = None
    """Arrival of the data its latest read returned."""
    bytes_sent: int = 0
    earlier: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def sending(self, now: float) -> None:
        """A write begins: the request's first, or the first of a redirect's next hop."""
        if self.sent is None:
            self.sent = now
        elif self.received is not None:
            so_far = self.times()
            if so_far is not None:
                self.earlier = (so_far.sending, so_far.waiting, so_far.receiving)
            self.sent, self.written, self.first_byte, self.received = now, None, None, None

    def wrote(self, now: float, size: int) -> None:
        self.written = now
        self.bytes_sent += size

    def arrived(self, at: float) -> None:
        if self.first_byte is None:
            self.first_byte = at
        self.received = at

    def times(self) -> WireTimes | None:
        """The phases of the hops so far. An answer that began before the request was fully
        written has no waiting, and receives from the last write on."""
        sent, received = self.sent, self.received
        if sent is None or received is None or received < sent:
            return None
        written = sent if self.written is None else self.written
        answered = max(received if self.first_byte is None else self.first_byte, written)
        earlier_sending, earlier_waiting, earlier_receiving = self.earlier
        sending = earlier_sending + written - sent
        waiting = earlier_waiting + answered - written
        receiving = earlier_receiving + received - answered
        return WireTimes(
            sending + waiting + receiving, sending, waiting, receiving, self.bytes_sent
        )


_exchanges: dict[object, WireExchange] = {}
"""The current request of each user greenlet; replaced by its next request, read once."""


def begin() -> None:
    """A new request starts in the calling greenlet."""
    _exchanges[getcurrent()] = WireExchange()


def take() -> WireTimes | None:
    """The calling greenlet's last request's times on the wire, once."""
    exchange = _exchanges.pop(getcurrent(), None)
    return None if exchange is None else exchange.times()


class TimedSocket:
    """A geventhttpclient connection that stamps the exchange of the request it carries; every
    other attribute is the wrapped socket's."""

    __slots__ = ("_exchange", "_sock", "fileno", "kernel_stamped")

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.fileno = sock.fileno  # asked twice per request: the socket's own, no extra call
        self.kernel_stamped = _stamp_arrivals(sock)
        self._exchange: WireExchange | None = None
        """The request being carried: a request's reads follow its writes on one connection."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        exchange = self._exchange = _exchanges.get(getcurrent())
        if exchange is None:
            self._send_all(data, flags)
            return
        exchange.sending(time.time())
        self._send_all(data, flags)
        exchange.wrote(time.time(), len(data))

    def _send_all(self, data: bytes, flags: int) -> None:
        """gevent's ``sendall`` asks the kernel for the send buffer's size before every call
        and slices in Python: a tenth of a request's socket work here. A request fits the
        buffer, so one ``send`` (which waits as gevent's does, within the socket's timeout)
        writes it all; the rest, if any, goes to ``sendall``."""
        sent = self._sock.send(data, flags)
        if sent < len(data):
            self._sock.sendall(memoryview(data)[sent:], flags)

    def sendfile(self, file: Any, offset: int = 0, count: int | None = None) -> int:
        exchange = self._exchange = _exchanges.get(getcurrent())
        if exchange is not None:
            exchange.sending(time.time())
        sent = int(self._sock.sendfile(file, offset, count))
        if exchange is not None:
            exchange.wrote(time.time(), sent)
        return sent

    def recv(self, size: int, flags: int = 0) -> Any:
        exchange = self._exchange
        if exchange is None:
            return self._sock.recv(size, flags)
        if self.kernel_stamped:
            data, ancillary, _, _ = self._sock.recvmsg(size, ANCILLARY_BYTES, flags)
            at = _arrival(ancillary) if ancillary else None
        else:
            data = self._sock.recv(size, flags)
            at = None
        exchange.arrived(time.time() if at is None else at)
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
