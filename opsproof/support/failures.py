"""A failed call in words: the root cause that clients (httpx, redis-py, psycopg) wrap in
their own exception types, said in one line."""

import socket
import ssl
from collections.abc import Iterator
from typing import TypeVar

from opsproof.support.text import one_line

E = TypeVar("E", bound=BaseException)


def cause_of(exc: BaseException, kind: type[E]) -> E | None:
    """The first exception of ``kind`` in ``exc``'s chain of causes, if any."""
    for cause in _causes(exc):
        if isinstance(cause, kind):
            return cause
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def describe_error(exc: BaseException, timeout: float) -> str:
    """One line saying why a call failed, from the root cause clients wrap in their own types."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS verification failed: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
        if isinstance(cause, TimeoutError):
            return f"no answer within {timeout:g}s"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ConnectionResetError):
            return "connection reset by peer"
        if isinstance(cause, socket.gaierror):
            return f"DNS lookup failed: {cause.strerror}"
    return one_line(str(exc)) or type(exc).__name__
