"""The samples of one second a worker has not yet added to its metrics.

Recording a request is one append of the tuple the worker already built, not a dozen metric
updates: the second's samples are taken apart column by column (``map`` with an
``itemgetter``, in C) and added to its MetricSet in bulk when it is sent (``Counter`` and
``sum`` also run in C). A tuple of numbers and strings leaves the garbage collector's lists at
its first collection, so a second of samples (thousands per worker) costs it little.
"""

from array import array
from collections import Counter
from operator import itemgetter
from typing import NamedTuple

from opsproof.load.breakdown import Breakdown
from opsproof.load.locust.wire_timing import WireTimes
from opsproof.load.stats import MetricSet


class RequestSample(NamedTuple):
    """One request as the worker saw it; durations in microseconds. A tuple: one is built per
    request, and a frozen dataclass costs several times as much to build."""

    method: str
    name: str
    url: str
    status: int
    micros: int
    size: int
    failed: bool
    corrected: int | None
    """From the intended start (arrival-rate executors only)."""
    wire: WireTimes | None
    """k6's phases, where the request was timed on the wire."""
    failure: tuple[str, str] | None = None
    """A failed request's kind and why, for the breakdown."""


class IterationKeys(NamedTuple):
    """The keys an iteration counts in (``iterations`` and its submetrics) and is timed in
    (``iteration_duration`` and its submetrics): fixed, their only tag being the scenario."""

    counted: list[str]
    timed: list[str]


WIRE_PHASES = ("http_req_sending", "http_req_waiting", "http_req_receiving")
_NAME, _STATUS, _MICROS, _SIZE, _FAILED, _CORRECTED, _WIRE = (
    itemgetter(RequestSample._fields.index(field))
    for field in ("name", "status", "micros", "size", "failed", "corrected", "wire")
)


class Columns:
    __slots__ = ("iterations", "requests")

    def __init__(self) -> None:
        self.requests: list[RequestSample] = []
        self.iterations = array("q")
        """Iteration durations, µs."""

    def fold_into(self, metrics: MetricSet, iteration_keys: IterationKeys) -> None:
        """Add every sample to ``metrics`` (once: a second is sent once)."""
        if iterations := len(self.iterations):
            for key in iteration_keys.counted:
                metrics.add_count(key, iterations, iterations)
            for key in iteration_keys.timed:
                metrics.trend(key).record_all(self.iterations)
        if not (requests := self.requests):
            return
        count = len(requests)
        metrics.add_count("http_reqs", count, count)
        metrics.add_count("data_received", sum(map(_SIZE, requests)), count)
        metrics.add_rate("http_req_failed", sum(map(_FAILED, requests)), count)
        metrics.trend("http_req_duration").record_all(map(_MICROS, requests))
        corrected = [micros for micros in map(_CORRECTED, requests) if micros is not None]
        if corrected:
            metrics.trend("http_req_duration_corrected").record_all(corrected)
        wires = [wire for wire in map(_WIRE, requests) if wire is not None]
        if wires:
            _, sending, waiting, receiving, sent = zip(*wires, strict=True)
            for name, seconds in zip(WIRE_PHASES, (sending, waiting, receiving), strict=True):
                metrics.trend(name).record_all([int(value * 1e6) for value in seconds])
            metrics.add_count("data_sent", sum(sent), len(wires))

    def fold_names(self, breakdown: Breakdown) -> None:
        """Add every request to its name's row of ``breakdown`` (once, as ``fold_into``)."""
        requests = self.requests
        by_name: dict[str, list[int]] = {}
        for name, micros in zip(map(_NAME, requests), map(_MICROS, requests), strict=True):
            by_name.setdefault(name, []).append(micros)
        for name, values in by_name.items():
            breakdown.stats(name).duration.record_all(values)
        statuses = Counter(zip(map(_NAME, requests), map(_STATUS, requests), strict=True))
        for (name, status), times in statuses.items():
            breakdown.stats(name).statuses[status] += times
        for sample in requests:
            if sample.failure is not None:
                breakdown.stats(sample.name).fail(*sample.failure)
