"""The samples of one second a worker has not yet added to its metrics, column by column.

Recording a request is a few appends to arrays of machine numbers, not a dozen metric updates;
the columns are added to the second's MetricSet in bulk when it is sent (``Counter`` and
``sum`` run in C). Arrays hold no Python objects, so a second of samples (thousands per
worker) gives the garbage collector nothing to traverse.
"""

from array import array
from typing import NamedTuple

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


class IterationKeys(NamedTuple):
    """The keys an iteration counts in (``iterations`` and its submetrics) and is timed in
    (``iteration_duration`` and its submetrics): fixed, their only tag being the scenario."""

    counted: list[str]
    timed: list[str]


WIRE_PHASES = ("http_req_sending", "http_req_waiting", "http_req_receiving")


class Columns:
    __slots__ = (
        "corrected", "failed", "iterations", "micros", "receiving", "sending", "sent", "sizes",
        "waiting",
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

    def request(self, sample: RequestSample) -> None:
        self.micros.append(sample.micros)
        self.sizes.append(sample.size)
        self.failed.append(sample.failed)
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
