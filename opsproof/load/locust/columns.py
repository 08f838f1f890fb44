"""The samples of one second a worker has not yet added to its metrics, column by column.

Recording a request is a few appends to arrays of machine numbers, not a dozen metric updates;
the columns are added to the second's MetricSet in bulk when it is sent (``Counter`` and
``sum`` run in C). Arrays hold no Python objects, so a second of samples (thousands per
worker) gives the garbage collector nothing to traverse.
"""

from array import array
from collections import Counter
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


class Columns:
    __slots__ = (
        "corrected", "failed", "failures", "iterations", "micros", "names", "receiving",
        "sending", "sent", "sizes", "statuses", "waiting",
    )  # fmt: skip

    def __init__(self) -> None:
        self.micros, self.sizes, self.failed = array("q"), array("q"), array("b")
        self.corrected = array("q")
        """Only the requests that have it (arrival-rate executors)."""
        self.sending, self.waiting, self.receiving = array("d"), array("d"), array("d")
        """Seconds, and ``sent`` bytes: only the requests timed on the wire."""
        self.sent = array("q")
        self.iterations = array("q")
        """Iteration durations, µs."""
        self.names: list[str] = []
        self.statuses = array("i")
        self.failures: list[tuple[str, str, str]] = []
        """Name, kind and why of each failed request."""

    def request(self, sample: RequestSample) -> None:
        self.micros.append(sample.micros)
        self.sizes.append(sample.size)
        self.failed.append(sample.failed)
        self.names.append(sample.name)
        self.statuses.append(sample.status)
        if sample.failure is not None:
            self.failures.append((sample.name, *sample.failure))
        if sample.corrected is not None:
            self.corrected.append(sample.corrected)
        wire = sample.wire
        if wire is not None:
            self.sending.append(wire.sending)
            self.waiting.append(wire.waiting)
            self.receiving.append(wire.receiving)
            self.sent.append(wire.bytes_sent)

    def fold_into(self, metrics: MetricSet, iteration_keys: IterationKeys) -> None:
        """Add every column to ``metrics`` (once: a second is sent once)."""
        if iterations := len(self.iterations):
            for key in iteration_keys.counted:
                metrics.add_count(key, iterations, iterations)
            for key in iteration_keys.timed:
                metrics.trend(key).record_all(self.iterations)
        if requests := len(self.micros):
            metrics.add_count("http_reqs", requests, requests)
            metrics.add_count("data_received", sum(self.sizes), requests)
            metrics.add_rate("http_req_failed", sum(self.failed), requests)
            metrics.trend("http_req_duration").record_all(self.micros)
        if self.corrected:
            metrics.trend("http_req_duration_corrected").record_all(self.corrected)
        if timed := len(self.sent):
            for name, seconds in zip(
                WIRE_PHASES, (self.sending, self.waiting, self.receiving), strict=True
            ):
                metrics.trend(name).record_all([int(value * 1e6) for value in seconds])
            metrics.add_count("data_sent", sum(self.sent), timed)

    def fold_names(self, breakdown: Breakdown) -> None:
        """Add every request to its name's row of ``breakdown`` (once, as ``fold_into``)."""
        by_name: dict[str, list[int]] = {}
        for name, micros in zip(self.names, self.micros, strict=True):
            by_name.setdefault(name, []).append(micros)
        for name, values in by_name.items():
            breakdown.stats(name).duration.record_all(values)
        for (name, status), times in Counter(zip(self.names, self.statuses, strict=True)).items():
            breakdown.stats(name).statuses[status] += times
        for name, kind, why in self.failures:
            breakdown.stats(name).fail(kind, why)
