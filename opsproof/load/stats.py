"""Exact, mergeable statistics: every latency goes into an HDR histogram (3 significant
digits), so percentiles merged across generator processes and seconds stay exact to 0.1%,
unlike Locust's own stats, which round response times to about 2 significant digits.

A ``MetricSet`` holds k6's four metric types, keyed by selector text (``http_req_duration``,
``http_req_duration{name:/api/render}``); it travels between processes as plain JSON.
"""

import operator
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hdrh.histogram import HdrHistogram

from opsproof.load.metrics import BUILTIN
from opsproof.load.thresholds import Expression, Selector

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour: beyond any request timeout
SIGNIFICANT_DIGITS = 3

MAX_PENDING = 1024
"""Distinct values counted before they go into the histogram: a trend recorded for hours and
read only at the end (a worker's per-name durations) stays the histogram's size."""

Wire = dict[str, object]


def new_histogram() -> HdrHistogram:
    return _acyclic(HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS))


def _acyclic(histogram: HdrHistogram) -> HdrHistogram:
    """An HDR histogram and its encoder refer to each other: a cycle, freed only when the
    garbage collector gets to it. Thousands are made and dropped per minute (each second's
    trends, on both sides of the wire), each with a 184 KiB counts array, so a long run's RSS
    would climb by the garbage between full collections; a weak back-reference breaks the cycle
    and frees each as soon as it is dropped."""
    histogram.encoder.histogram = weakref.proxy(histogram)
    return histogram


class Trend:
    """Durations in microseconds: an HDR histogram for percentiles, exact count/sum/min/max.

    Recording only counts the value (``record_all`` counts a batch in C); the distinct values
    reach the histogram when the trend is read. Several trends take every request, and a
    second of latencies repeats many values.
    """

    __slots__ = ("_count", "_histogram", "_max_us", "_min_us", "_pending", "_total_us")

    def __init__(
        self,
        histogram: HdrHistogram | None = None,
        count: int = 0,
        total_us: int = 0,
        min_us: int = HIGHEST_US,
        max_us: int = 0,
    ) -> None:
        self._histogram = histogram if histogram is not None else new_histogram()
        self._count, self._total_us, self._min_us, self._max_us = count, total_us, min_us, max_us
        self._pending: Counter[int] = Counter()

    def record(self, micros: int) -> None:
        self._pending[micros] += 1
        if len(self._pending) > MAX_PENDING:
            self._settle()

    def record_all(self, micros: Iterable[int]) -> None:
        self._pending.update(micros)
        if len(self._pending) > MAX_PENDING:
            self._settle()

    @property
    def histogram(self) -> HdrHistogram:
        self._settle()
        return self._histogram

    @property
    def count(self) -> int:
        self._settle()
        return self._count

    @property
    def total_us(self) -> int:
        self._settle()
        return self._total_us

    @property
    def min_us(self) -> int:
        self._settle()
        return self._min_us

    @property
    def max_us(self) -> int:
        self._settle()
        return self._max_us

    def _settle(self) -> None:
        """Add the counted values to the histogram. HDR's ``record_value`` makes five Python
        calls per value; its index arithmetic, inlined here, costs a fifth of that, and less
        again below 2,048 µs (most requests), where a value is its own index."""
        pending = self._pending
        if not pending:
            return
        low, high = min(pending), max(pending)
        if low < 0 or high > HIGHEST_US:  # beyond the histogram: clamp
            pending = Counter()
            for micros, times in self._pending.items():
                pending[min(max(micros, 0), HIGHEST_US)] += times
            low, high = min(pending), max(pending)
        histogram = self._histogram
        counts, unit = histogram.counts, histogram.unit_magnitude
        mask, half = histogram.sub_bucket_mask, histogram.sub_bucket_half_count_magnitude
        first_bucket = unit + half + 1  # the bit length of values in bucket 0
        # at a unit of 1 µs, bucket 0's index ((0 + 1) << half) + value - (1 << half) is the value
        own_index = histogram.sub_bucket_count if unit == 0 else 0
        for value, times in pending.items():
            if value < own_index:
                counts[value] += times
            else:
                bucket = (value | mask).bit_length() - first_bucket
                sub_bucket = value >> (bucket + unit)
                counts[((bucket + 1) << half) + sub_bucket - (1 << half)] += times
        total_us = sum(map(operator.mul, pending.keys(), pending.values()))
        count = sum(pending.values())
        histogram.total_count += count
        histogram.min_value = min(histogram.min_value, low)
        histogram.max_value = max(histogram.max_value, high)
        self._count += count
        self._total_us += total_us
        self._min_us, self._max_us = min(self._min_us, low), max(self._max_us, high)
        self._pending.clear()

    def merge(self, other: "Trend") -> None:
        if other.count:
            self.histogram.add(other.histogram)
            self._count += other.count
            self._total_us += other.total_us
            self._min_us = min(self._min_us, other.min_us)
            self._max_us = max(self._max_us, other.max_us)

    def percentile_ms(self, percent: float) -> float:
        """HDR's value (the top of its 0.1%-wide bucket), kept within the exact min and max."""
        value = self.histogram.get_value_at_percentile(percent)
        return float(min(max(value, self.min_us), self.max_us)) / 1000.0

    def aggregate_ms(self, method: str, percentile: float | None = None) -> float:
        """k6's trend aggregations, in milliseconds."""
        if method == "p":
            return self.percentile_ms(percentile or 0.0)
        if method == "med":
            return self.percentile_ms(50.0)
        if method == "min":
            return self.min_us / 1000.0
        if method == "max":
            return self.max_us / 1000.0
        return self.total_us / self.count / 1000.0

    def to_wire(self) -> Wire:
        encoded = self.histogram.encode()
        return {
            "hdr": encoded.decode("ascii"),
            "count": self._count,
            "total_us": self._total_us,
            "min_us": self._min_us,
            "max_us": self._max_us,
        }

    @classmethod
    def from_wire(cls, wire: Wire) -> "Trend":
        return cls(
            _acyclic(HdrHistogram.decode(str(wire["hdr"]).encode("ascii"))),
            int(str(wire["count"])),
            int(str(wire["total_us"])),
            int(str(wire["min_us"])),
            int(str(wire["max_us"])),
        )


@dataclass
class MetricSet:
    """Samples of k6 metrics. Counters and gauges keep [value, samples]; rates [trues, total]:
    "no samples" is known for every type, so a threshold that saw none can fail."""

    counters: dict[str, list[float]] = field(default_factory=dict)
    rates: dict[str, list[int]] = field(default_factory=dict)
    trends: dict[str, Trend] = field(default_factory=dict)
    gauges: dict[str, list[float]] = field(default_factory=dict)

    def count(self, key: str, value: float = 1.0) -> None:
        self.add_count(key, value, 1)

    def add_count(self, key: str, value: float, samples: int) -> None:
        """``samples`` samples adding up to ``value``."""
        entry = self.counters.setdefault(key, [0.0, 0])
        entry[0] += value
        entry[1] += samples

    def rate(self, key: str, true: bool) -> None:
        self.add_rate(key, int(true), 1)

    def add_rate(self, key: str, trues: int, total: int) -> None:
        entry = self.rates.setdefault(key, [0, 0])
        entry[0] += trues
        entry[1] += total

    def trend(self, key: str) -> Trend:
        found = self.trends.get(key)
        if found is None:
            found = self.trends[key] = Trend()
        return found

    def gauge(self, key: str, value: float) -> None:
        entry = self.gauges.setdefault(key, [0.0, 0])
        entry[0] = value
        entry[1] += 1

    def merge(self, other: "MetricSet") -> None:
        """Add ``other``'s samples; gauges add up (concurrent processes or scenarios)."""
        for key, (value, samples) in other.counters.items():
            self.add_count(key, value, int(samples))
        for key, (trues, total) in other.rates.items():
            self.add_rate(key, trues, total)
        for key, trend in other.trends.items():
            self.trend(key).merge(trend)
        for key, (value, samples) in other.gauges.items():
            entry = self.gauges.setdefault(key, [0.0, 0])
            entry[0] += value
            entry[1] += samples

    def samples(self, key: str) -> int:
        """How many samples the metric (or submetric) ``key`` received."""
        if key in self.trends:
            return self.trends[key].count
        for table in (self.counters, self.gauges):
            if key in table:
                return int(table[key][1])
        return self.rates[key][1] if key in self.rates else 0

    def aggregate(self, selector: Selector, expression: Expression, duration_s: float) -> float:
        """The value k6 would compare: ``p(95)`` of a trend, ``rate`` of a rate, and so on;
        a counter's rate is per second of the whole run. Call only when samples exist."""
        key, kind = str(selector), BUILTIN[selector.metric].type
        if kind == "trend":
            return self.trends[key].aggregate_ms(expression.method, expression.percentile)
        if kind == "rate":
            trues, total = self.rates[key]
            return trues / total
        if kind == "gauge":
            return self.gauges[key][0]
        value = self.counters[key][0]
        return value / duration_s if expression.method == "rate" else value

    def to_wire(self) -> Wire:
        return {
            "counters": self.counters,
            "rates": self.rates,
            "trends": {key: trend.to_wire() for key, trend in self.trends.items()},
            "gauges": self.gauges,
        }

    @classmethod
    def from_wire(cls, wire: Wire) -> "MetricSet":
        def table(name: str) -> dict[str, list[float]]:
            raw = wire.get(name) or {}
            assert isinstance(raw, dict)
            return {str(k): [float(v[0]), float(v[1])] for k, v in raw.items()}

        rates = {k: [int(v[0]), int(v[1])] for k, v in table("rates").items()}
        trends_wire = wire.get("trends") or {}
        assert isinstance(trends_wire, dict)
        return cls(
            table("counters"),
            rates,
            {str(k): Trend.from_wire(v) for k, v in trends_wire.items()},
            table("gauges"),
        )
