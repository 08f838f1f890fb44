"""One deadline per request, carried by the connection itself.

httpx's timeouts bound each socket operation, so a peer that sends one byte a second never
trips them. Here every blocking call — TCP connect, TLS handshake, each send and each receive —
gets as its timeout the time left until the request's deadline (and fails at once when none is
left), so together they cannot outlast it. CPython bounds a whole TLS handshake by the timeout
the socket had when it began, not each read within it, so a trickled handshake is bounded too.

Why not a watchdog that closes the socket at the deadline, or the request in a worker thread:
a watchdog races with the connection pool (by the time it fires, the socket may serve the next
request) and turns a timeout into an ambiguous "connection reset"; a worker thread stays
blocked after its caller gave up, one more per hung poll of a chaos steady state. The deadline
in the timeout costs nothing, needs no thread and fails at the exact step that was too slow.

Not bounded: name resolution (``getaddrinfo`` takes no timeout); where a resolver may hang,
name targets by IP address or by a name in /etc/hosts.

The deadline is per thread: a client shared by polling threads (a chaos experiment's
expectations) serves each thread's request under that request's own deadline.
"""

import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpcore

# Request bodies are written in pieces so that a peer reading slowly meets the deadline.
_WRITE_PIECE = 16 * 1024


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock, and the timeout it was set from (for messages)."""

    timeout: float
    at: float = field(default=0.0)

    @classmethod
    def after(cls, timeout: float) -> "Deadline":
        """The deadline ``timeout`` seconds from now."""
        return cls(timeout, time.monotonic() + timeout)

    def remaining(self) -> float:
        """Seconds left; zero or less once passed."""
        return self.at - time.monotonic()


@dataclass
class Exchange:
    """The request a thread is making: its deadline, the step it is at and the bytes it got."""

    deadline: Deadline
    step: str = "headers"
    """``connect``, ``tls`` or ``headers`` (the request is out, the answer's head is awaited),
    then ``body``."""
    received: int = 0
    """Bytes read from the network in this step: a trickle shows as a count."""


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's own synchronous sockets, each blocking call bounded by the thread's deadline.

    Outside :meth:`exchange`, the timeouts httpcore passes are used unchanged.
    """

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        self._local = threading.local()

    @contextmanager
    def exchange(self, deadline: Deadline) -> Iterator[Exchange]:
        """Bound every network call this thread makes inside the block by ``deadline``."""
        previous = self.current()
        self._local.exchange = current = Exchange(deadline)
        try:
            yield current
        finally:
            self._local.exchange = previous

    def current(self) -> Exchange | None:
        """The exchange of the calling thread, if it is inside one."""
        found: Exchange | None = getattr(self._local, "exchange", None)
        return found

    def time_left(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """``timeout`` cut to what is left of the deadline; ``expired`` raised when nothing is
        (a zero socket timeout would mean non-blocking, not "fail now")."""
        exchange = self.current()
        if exchange is None:
            return timeout
        left = exchange.deadline.remaining()
        if left <= 0:
            raise expired(f"deadline of {exchange.deadline.timeout:g}s passed")
        return left if timeout is None else min(timeout, left)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Mark the exchange as being at ``name`` for the block (for the timeout's message)."""
        exchange = self.current()
        if exchange is None:
            yield
            return
        before, exchange.step, exchange.received = exchange.step, name, 0
        yield  # no finally: after a failure the step stays, to be named in the message
        exchange.step, exchange.received = before, 0

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self.step("connect"):
            stream = self._inner.connect_tcp(
                host,
                port,
                self.time_left(timeout, httpcore.ConnectTimeout),
                local_address,
                socket_options,
            )
        return _DeadlineStream(stream, self)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self.step("connect"):
            stream = self._inner.connect_unix_socket(
                path, self.time_left(timeout, httpcore.ConnectTimeout), socket_options
            )
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    """One connection; reads and writes bounded by the deadline of the thread using it."""

    def __init__(self, inner: httpcore.NetworkStream, backend: DeadlineBackend) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, self._backend.time_left(timeout, httpcore.ReadTimeout))
        exchange = self._backend.current()
        if exchange is not None:
            exchange.received += len(data)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), _WRITE_PIECE):
            piece = buffer[start : start + _WRITE_PIECE]
            self._inner.write(piece, self._backend.time_left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        with self._backend.step("tls"):
            left = self._backend.time_left(timeout, httpcore.ConnectTimeout)
            stream = self._inner.start_tls(ssl_context, server_hostname, left)
        return _DeadlineStream(stream, self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
