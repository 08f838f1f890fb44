"""Plumbing every probe shares: timing, printable text, and readable error causes."""

import functools
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import ParamSpec, TypeVar

from opsproof.probes.result import Figure, Observation
from opsproof.support.text import one_line, printable

__all__ = ["cause_of", "describe_error", "one_line", "printable", "timed"]

P = ParamSpec("P")
R = TypeVar("R", bound=Observation | None)
E = TypeVar("E", bound=BaseException)


def timed(probe: Callable[P, R]) -> Callable[P, R]:
    """Fill ``elapsed_s`` of the probe's observation with its wall time on a monotonic clock,
    and make its text printable: whatever a peer managed to put in a reason, a target or a
    figure (a certificate's names, a server's error) reaches the evidence escaped."""

    @functools.wraps(probe)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        start = time.monotonic()
        result = probe(*args, **kwargs)
        if result is None:
            return result
        finished: R = replace(
            result,
            target=printable(result.target),
            reason=printable(result.reason),
            figures={name: _printable(figure) for name, figure in result.figures.items()},
            elapsed_s=time.monotonic() - start,
        )
        return finished

    return wrapper


def _printable(figure: Figure) -> Figure:
    if isinstance(figure.value, str) and not figure.value.isprintable():
        return replace(figure, value=printable(figure.value))
    return figure


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
