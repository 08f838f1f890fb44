"""How much a run's figures would move if the same system were measured again: the standard
error of p50/p95/p99, the error rate and the throughput, from what one run stored.

Two sources, and a name's figures use both:

- **Requests** (``independent_errors``): a percentile's standard error from its order
  statistics — the rank of the q-quantile among n requests varies by sqrt(n·q·(1−q)) —, the
  error rate's binomial one, the throughput's Poisson one. Exact for independent requests.
- **Seconds** (``seconds_errors``): a block bootstrap over the run's seconds (their HDR
  histograms on a 1% grid, requests and failures; at most ``MAX_BLOCKS`` contiguous blocks,
  ``ROUNDS`` resamples, a fixed seed). It sees what independent requests miss: a slow second — a GC
  pause, a busy neighbour — moves many requests at once.

The run's *design effect* (seconds' error ÷ requests' error, at least 1, for the whole run) says
how much more a run varies than independent requests would; a name's own requests' error is
widened by it, since per-second histograms are kept for the whole run, not per name.
"""

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from opsproof.load.stats import Trend
from opsproof.load.tolerances import METRICS, Metric

ROUNDS = 200
MAX_BLOCKS = 60
SEED = 20261207
QUANTILES: dict[Metric, float] = {"p50": 0.50, "p95": 0.95, "p99": 0.99}

Latencies = tuple[tuple[float, int], ...]
"""(milliseconds, requests) in ascending order: an HDR histogram's recorded buckets."""


def latencies_of(trend: Trend) -> Latencies:
    """The buckets of ``trend``'s histogram, each at its highest equivalent value (as HDR's
    percentiles are)."""
    if not trend.count:
        return ()
    histogram = trend.histogram  # its counts read directly: HDR's iterator is 20× slower
    return tuple(
        (histogram.get_highest_equivalent_value(histogram.get_value_from_index(index)) / 1000.0, n)
        for index, n in enumerate(histogram.counts)
        if n
    )


@dataclass(frozen=True)
class RowSample:
    """One run's requests of one row (a name, or every request), as compared with a baseline."""

    requests: int
    failures: int
    duration_s: float
    latencies: Latencies = ()

    def figure(self, metric: Metric) -> float:
        """The figure compared: milliseconds, a fraction, or requests per second."""
        if metric == "error_rate":
            return self.failures / self.requests if self.requests else 0.0
        if metric == "throughput":
            return self.requests / self.duration_s if self.duration_s > 0 else 0.0
        return quantile(self.latencies, QUANTILES[metric])


@dataclass(frozen=True)
class SecondSample:
    requests: int
    failures: int
    latencies: Latencies = ()


@dataclass(frozen=True)
class Errors:
    """A standard error per metric, in the metric's unit."""

    values: dict[Metric, float] = field(default_factory=dict)

    def of(self, metric: Metric) -> float:
        return self.values.get(metric, 0.0)


def quantile(latencies: Latencies, q: float) -> float:
    """The value at rank ceil(q·n) (at least the first), as HDR reads a percentile."""
    total = sum(count for _, count in latencies)
    if not total:
        return 0.0
    rank, seen = max(1, math.ceil(q * total)), 0
    for value, count in latencies:
        seen += count
        if seen >= rank:
            return value
    return latencies[-1][0]


def independent_errors(sample: RowSample) -> Errors:
    """Standard errors if every request were independent of the others."""
    n = sample.requests
    if not n:
        return Errors()
    values: dict[Metric, float] = {}
    counted = sum(count for _, count in sample.latencies)
    for metric, q in QUANTILES.items():
        if counted:
            step = math.sqrt(q * (1 - q) / counted)
            low = quantile(sample.latencies, max(0.0, q - step))
            high = quantile(sample.latencies, min(1.0, q + step))
            values[metric] = (high - low) / 2
    rate = sample.failures / n
    values["error_rate"] = math.sqrt(rate * (1 - rate) / n)
    values["throughput"] = math.sqrt(n) / sample.duration_s if sample.duration_s > 0 else 0.0
    return Errors(values)


GRID_STEP = 1.01
"""Latencies are resampled on a grid of 1% steps: the spread needs no finer resolution, and
a few hundred cells instead of thousands of HDR buckets keep the bootstrap fast."""


def _cell(milliseconds: float) -> int:
    return round(math.log(max(milliseconds, 1e-3)) / math.log(GRID_STEP))


@dataclass(frozen=True)
class _Block:
    seconds: int
    requests: int
    failures: int
    cells: tuple[tuple[int, int], ...]
    """(grid cell, requests)."""


def _blocks(seconds: Sequence[SecondSample]) -> list[_Block]:
    size = max(1, math.ceil(len(seconds) / MAX_BLOCKS))
    blocks = []
    for start in range(0, len(seconds), size):
        part = seconds[start : start + size]
        cells: Counter[int] = Counter()
        for second in part:
            for value, count in second.latencies:
                cells[_cell(value)] += count
        blocks.append(
            _Block(
                len(part),
                sum(s.requests for s in part),
                sum(s.failures for s in part),
                tuple(cells.items()),
            )
        )
    return blocks


def seconds_errors(seconds: Sequence[SecondSample]) -> Errors:
    """Standard errors by a block bootstrap over the run's seconds."""
    blocks = _blocks(seconds)
    if len(blocks) < 2:
        return Errors()
    low = min((cell for b in blocks for cell, _ in b.cells), default=0)
    high = max((cell for b in blocks for cell, _ in b.cells), default=0)
    draw = random.Random(SEED)
    rounds: dict[Metric, list[float]] = {metric: [] for metric in METRICS}
    for _ in range(ROUNDS):
        chosen = Counter(draw.choices(range(len(blocks)), k=len(blocks)))
        totals = [0] * (high - low + 1)
        requests = failures = span = 0
        for index, times in chosen.items():
            block = blocks[index]
            requests += block.requests * times
            failures += block.failures * times
            span += block.seconds * times
            for cell, count in block.cells:
                totals[cell - low] += count * times
        for metric, value in _grid_quantiles(totals, low).items():
            rounds[metric].append(value)
        if requests:
            rounds["error_rate"].append(failures / requests)
        rounds["throughput"].append(requests / span)
    return Errors({m: _stdev(v) for m, v in rounds.items() if len(v) >= 2})


def _grid_quantiles(totals: list[int], low: int) -> dict[Metric, float]:
    """p50/p95/p99 of a histogram on the grid, in milliseconds, in one pass."""
    total = sum(totals)
    if not total:
        return {}
    wanted = sorted((max(1, math.ceil(q * total)), metric) for metric, q in QUANTILES.items())
    found: dict[Metric, float] = {}
    seen = 0
    for offset, count in enumerate(totals):
        seen += count
        while wanted and seen >= wanted[0][0]:
            found[wanted.pop(0)[1]] = GRID_STEP ** (low + offset)
    return found


def _stdev(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def design_effect(run: Errors, independent: Errors) -> dict[Metric, float]:
    """How many times the run's seconds vary more than independent requests would (≥ 1)."""
    effect: dict[Metric, float] = {}
    for metric in METRICS:
        base = independent.of(metric)
        effect[metric] = max(1.0, run.of(metric) / base) if base > 0 else 1.0
    return effect


def widened(errors: Errors, effect: dict[Metric, float]) -> Errors:
    return Errors({m: v * effect.get(m, 1.0) for m, v in errors.values.items()})


def larger(first: Errors, second: Errors) -> Errors:
    """Per metric, the larger of two estimates."""
    metrics = first.values.keys() | second.values.keys()
    return Errors({m: max(first.of(m), second.of(m)) for m in metrics})
