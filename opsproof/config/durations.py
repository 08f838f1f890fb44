"""Durations written the way runbooks write them: ``500ms``, ``30s``, ``2m``, ``1h`` or seconds.

A duration is finite and at most ``MAX_DURATION``: every one ends up as a deadline
(``time.monotonic() + d``) or a sleep, where NaN never expires, infinity never ends and
1e308 overflows.
"""

import math
import re
from typing import Annotated

from pydantic import BeforeValidator

from opsproof.config.problems import excerpt

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
MAX_DURATION = 366 * 86400.0
"""One year: longer than any deadline, budget or backup age a config needs."""
_FORMS = "write e.g. 500ms, 30s, 2m, 1h or a number of seconds"


def parse_duration(value: object) -> float:
    """Return seconds; a bare number means seconds. Raises ValueError with the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, not true/false; {_FORMS}")
    if isinstance(value, int) and abs(value) > MAX_DURATION:
        seconds = math.inf  # float() of a 310-digit int raises OverflowError
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (match := _PATTERN.match(value)):
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        raise ValueError(f"{excerpt(value)} is not a duration; {_FORMS}")
    if math.isnan(seconds):
        raise ValueError(f"a duration cannot be NaN (not a number); {_FORMS}")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_DURATION:
        raise ValueError(f"a duration is at most 366d (one year); got {excerpt(value)}")
    return seconds


def parse_positive_duration(value: object) -> float:
    """A duration that must be more than zero: a timeout, an interval, a budget."""
    seconds = parse_duration(value)
    if seconds == 0:
        raise ValueError("must be more than 0: a zero deadline fails at once, a zero wait spins")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
"""A duration in seconds (0 allowed), accepting runbook notation in config files."""

PositiveDuration = Annotated[float, BeforeValidator(parse_positive_duration)]
"""A duration in seconds that must be more than 0."""
