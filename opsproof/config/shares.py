"""Values a runtime budget and a restart rule are written in: a CPU share (``80%`` of one core,
``1.5`` cores), a share of a limit (``80%``, ``0.8``) and a restart baseline (``previous`` or
a duration such as ``24h``)."""

from typing import Annotated, Literal

from pydantic import BeforeValidator

from opsproof.config.durations import parse_positive_duration
from opsproof.config.problems import excerpt

MAX_CORES = 1024.0


def _number(value: object, what: str, example: str) -> float:
    """``80%`` → 0.8, ``0.8`` → 0.8; ValueError naming the forms otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"expected {what}, not true/false; write e.g. {example}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            pass
    raise ValueError(f"{excerpt(value)} is not {what}; write e.g. {example}")


def _cpu_share(value: object) -> float:
    cores = _number(value, "a CPU share", "80% (of one core) or 1.5 (cores)")
    if not 0 < cores <= MAX_CORES:
        raise ValueError(f"a CPU share is more than 0 and at most {MAX_CORES:g} cores")
    return cores


def _limit_share(value: object) -> float:
    share = _number(value, "a share of the limit", "80% or 0.8")
    if not 0 < share <= 1:
        raise ValueError("a share of the limit is more than 0 and at most 1 (100%)")
    return share


def _since(value: object) -> object:
    if value == "previous":
        return value
    try:
        return parse_positive_duration(value)
    except ValueError as error:
        raise ValueError(f"{error}; or write previous (since the previous gate run)") from None


CpuShare = Annotated[float, BeforeValidator(_cpu_share)]
"""CPU in cores, as ``top`` and ``docker stats`` show it: ``80%`` is 0.8 of one core."""
LimitShare = Annotated[float, BeforeValidator(_limit_share)]
"""A share of a limit, more than 0 and at most 1: ``80%`` or ``0.8``."""
Since = Annotated[Literal["previous"] | float, BeforeValidator(_since)]
"""``previous`` (the previous gate run) or a duration in seconds (``24h``)."""
