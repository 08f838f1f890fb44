"""The decorator every probe wears: it times the call and keeps what a peer wrote printable."""

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from typing import ParamSpec, TypeVar

from opsproof.probes.result import Figure, Observation
from opsproof.support.text import printable

P = ParamSpec("P")
R = TypeVar("R", bound=Observation | None)


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
