"""The per-name breakdown of a load run: for each request name (k6's ``name`` tag), how many
were sent and failed, their latency percentiles, the statuses seen and why the failed ones
failed (connection refused, timeout, status mismatch, …), with one example of each kind.

"39 of 40 failed" says nothing; "429 ×39, status mismatch ×39: expected status 202, got 429"
tells a rate limit from a missing route. Workers keep one breakdown for the whole run and send
it with their final report; the master and the runner merge them. Its rows for the report are
made on the runner's side (``name_rows.py``): a worker does not import the evidence model.
"""

import errno
import socket
import ssl
from collections import Counter
from dataclasses import dataclass, field

from opsproof.errors import CheckFailed, RequestFailed
from opsproof.load.stats import Trend, Wire

MAX_NAMES = 100
"""Names kept apart; the rest are counted under ``OTHER_NAMES`` (a user class naming requests
by their URL, ids included, would otherwise grow the breakdown without bound)."""
OTHER_NAMES = "(other names)"
MAX_KINDS = 20
"""Error kinds kept apart per name; the rest are counted under ``OTHER_KIND``."""
OTHER_KIND = "other"
EXAMPLE_CHARS = 200


def error_kind(error: BaseException) -> str:
    """A failure's kind, in words, from what Locust handed the request event."""
    if isinstance(error, RequestFailed):
        return error.kind
    if isinstance(error, CheckFailed):
        return "check failed"
    name = type(error).__name__
    if name == "CatchResponseError":  # Locust's, for a user class's answer.failure(...)
        return "marked failed"
    if name == "LocustBadStatusCode":  # FastHttpUser: a status it does not accept
        return "bad status"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError):
        return "connection reset"
    if isinstance(error, TimeoutError | socket.timeout) or "Timeout" in name:
        return "timeout"
    if isinstance(error, ssl.SSLError):
        return "tls error"
    if isinstance(error, socket.gaierror):
        return "name not resolved"
    if isinstance(error, OSError) and error.errno is not None:
        return errno.errorcode.get(error.errno, name).lower()
    return name


def example(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


@dataclass
class NameStats:
    """One name's requests."""

    duration: Trend = field(default_factory=Trend)
    failures: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    """0: no answer (refused, timed out)."""
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    """The first failure of each kind, in words."""

    def fail(self, kind: str, text: str, times: int = 1) -> None:
        if kind not in self.errors and len(self.errors) >= MAX_KINDS:
            kind = OTHER_KIND
        self.failures += times
        self.errors[kind] += times
        self.examples.setdefault(kind, text)

    def merge(self, other: "NameStats") -> None:
        self.duration.merge(other.duration)
        self.statuses.update(other.statuses)
        for kind, times in other.errors.items():
            self.fail(kind, other.examples.get(kind, ""), times)

    def to_wire(self) -> Wire:
        return {
            "duration": self.duration.to_wire(),
            "statuses": {str(status): n for status, n in self.statuses.items()},
            "errors": {kind: [n, self.examples.get(kind, "")] for kind, n in self.errors.items()},
        }

    @classmethod
    def from_wire(cls, wire: Wire) -> "NameStats":
        statuses, errors = wire.get("statuses"), wire.get("errors")
        assert isinstance(statuses, dict) and isinstance(errors, dict)
        stats = cls(Trend.from_wire(wire["duration"]))  # type: ignore[arg-type]
        stats.statuses.update({int(status): int(n) for status, n in statuses.items()})
        for kind, (times, text) in errors.items():
            stats.fail(str(kind), str(text), int(times))
        return stats


@dataclass
class Breakdown:
    names: dict[str, NameStats] = field(default_factory=dict)

    def stats(self, name: str) -> NameStats:
        found = self.names.get(name)
        if found is None:
            if len(self.names) >= MAX_NAMES:
                name = OTHER_NAMES
            found = self.names.setdefault(name, NameStats())
        return found

    def merge(self, other: "Breakdown") -> None:
        for name, stats in other.names.items():
            self.stats(name).merge(stats)

    def to_wire(self) -> Wire:
        return {name: stats.to_wire() for name, stats in self.names.items()}

    @classmethod
    def from_wire(cls, wire: Wire) -> "Breakdown":
        breakdown = cls()
        for name, stats in wire.items():
            breakdown.stats(name).merge(NameStats.from_wire(stats))  # type: ignore[arg-type]
        return breakdown
