"""Limits written the way k6 thresholds read: ``<= 5%``, ``< 0.01``, ``< 500ms``, ``>= 20``.

A limit is a comparison and a number in the figure's own unit (a rate from 0 to 1,
milliseconds, a count), kept with the text the user wrote so that a failure quotes it.
"""

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from opsproof.config.durations import parse_duration
from opsproof.config.problems import excerpt

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}
_PATTERN = re.compile(r"^\s*(<=|>=|==|<|>)\s*(\S.*?)\s*$")


@dataclass(frozen=True)
class Limit:
    """``value`` must compare to ``bound`` as ``op`` says; ``text`` is as written."""

    op: str
    bound: float
    text: str

    def holds(self, value: float) -> bool:
        return _COMPARE[self.op](value, self.bound)

    def __str__(self) -> str:
        return self.text


def _split(value: object, example: str) -> tuple[str, str]:
    if not isinstance(value, str) or not (match := _PATTERN.match(value)):
        raise ValueError(
            f"{excerpt(value)} is not a limit; write a comparison and a value, e.g. {example} "
            "(in quotes: YAML reads a leading > as the start of a folded block)"
        )
    return match.group(1), match.group(2)


def _rate(value: object) -> Limit:
    if isinstance(value, Limit):
        return value
    op, number = _split(value, "'<= 5%' or '< 0.01'")
    percent = number.endswith("%")
    try:
        bound = float(number.rstrip("%").strip()) / (100 if percent else 1)
    except ValueError:
        raise ValueError(f"{excerpt(number)} is not a rate; write 5% or 0.05") from None
    if not 0 <= bound <= 1:
        raise ValueError(f"a rate is from 0 to 1 (0% to 100%); got {excerpt(number)}")
    return Limit(op, bound, f"{op} {number}")


def _latency(value: object) -> Limit:
    if isinstance(value, Limit):
        return value
    op, number = _split(value, "'< 500ms' or '<= 1s'")
    try:
        seconds = parse_duration(number)
    except ValueError as error:
        raise ValueError(f"{error} (a latency limit, e.g. '< 500ms')") from None
    return Limit(op, seconds * 1000, f"{op} {number}")


def _count(value: object) -> Limit:
    if isinstance(value, Limit):
        return value
    op, number = _split(value, "'>= 20'")
    if not number.isdigit():
        raise ValueError(f"{excerpt(number)} is not a whole number of requests")
    return Limit(op, float(number), f"{op} {number}")


_AS_TEXT = PlainSerializer(str, return_type=str)
_TEXT_SCHEMA = WithJsonSchema({"type": "string", "pattern": _PATTERN.pattern})
"""Written as text: the schema (and the reference built from it) shows no dataclass fields."""
RateLimit = Annotated[Limit, BeforeValidator(_rate), _AS_TEXT, _TEXT_SCHEMA]
"""A limit on a share of requests (0 to 1, or a percentage)."""
LatencyLimit = Annotated[Limit, BeforeValidator(_latency), _AS_TEXT, _TEXT_SCHEMA]
"""A limit on a latency; the bound is in milliseconds."""
CountLimit = Annotated[Limit, BeforeValidator(_count), _AS_TEXT, _TEXT_SCHEMA]
"""A limit on a number of requests."""
