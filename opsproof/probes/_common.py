"""Plumbing every probe shares: timing, readable error causes, and secret-free target ids."""

import functools
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import ParamSpec, TypeVar

from opsproof.probes.result import Observation

P = ParamSpec("P")
R = TypeVar("R", bound=Observation | None)


def timed(probe: Callable[P, R]) -> Callable[P, R]:
    """Fill ``elapsed_s`` of the probe's observation with its wall time on a monotonic clock."""

    @functools.wraps(probe)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        start = time.monotonic()
        result = probe(*args, **kwargs)
        if result is None:
            return result
        elapsed: R = replace(result, elapsed_s=time.monotonic() - start)
        return elapsed

    return wrapper


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


def one_line(text: str, limit: int = 200) -> str:
    """Whitespace collapsed and cut to ``limit`` characters, for quoting answers in reasons."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
