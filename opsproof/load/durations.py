"""k6 durations: Go's ``time.ParseDuration`` syntax plus days, or a number of milliseconds.

Hand-written because no Python library parses Go durations (``1m30s``, ``1.5h``, ``300ms``)
exactly as k6 does; ``opsproof.config.durations`` accepts only a single unit.
"""

import re

_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)")


def parse_k6_duration(value: object) -> float:
    """Seconds from ``"1m30s"``-style text or a number of milliseconds (as k6 reads JSON)."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 1m30s or 500ms")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value) / 1000.0
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 1m30s or 500ms")
    text = value.strip()
    if text == "0":
        return 0.0
    position, seconds = 0, 0.0
    while position < len(text):
        match = _PART.match(text, position)
        if match is None:
            raise ValueError(f"{value!r} is not a k6 duration; write e.g. 30s, 1m30s, 1.5h, 500ms")
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not text:
        raise ValueError("empty duration; write e.g. 30s, 1m30s, 1.5h, 500ms")
    return seconds


def format_k6_duration(seconds: float) -> str:
    """Shortest readable k6 duration text for ``seconds`` (``90.0`` → ``"1m30s"``)."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000, 3):g}ms"
    minutes, rest = divmod(seconds, 60.0)
    hours, minutes = divmod(int(minutes), 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{round(rest, 3):g}s" if rest or not text else "")
