"""The rule that calls a change a regression, an improvement, or neither.

For each figure, *worse* is the change in the direction that hurts (a rise of latency or error
rate, a fall of throughput). With ``se`` each run's standard error of the figure
(``noise.py``)::

    noise bound = 2 · sqrt(se_baseline² + se_now²)
    regressed   when worse  > tolerance and worse  > noise bound
    improved    when -worse > tolerance and -worse > noise bound
    unchanged   otherwise

A percentile is compared only when each run has ``MIN_TAIL`` requests above it.

The tolerance says how much change matters; the noise bound, how much change two runs of an
unchanged system show (about one comparison in twenty exceeds two standard errors of their
difference). A change must clear both: a 12% rise of a p95 measured on 40 requests is noise, a
3% rise past a 2% tolerance on a million requests is not.
"""

import math
from dataclasses import dataclass
from typing import Literal

from opsproof.load.noise import QUANTILES, Errors, RowSample
from opsproof.load.tolerances import METRICS, Metric, Tolerances

NOISE_Z = 2.0
"""Standard errors of the difference a change must exceed."""
MIN_TAIL = 5
"""Requests above a percentile each run needs for it to be compared (p99: 500 requests)."""
Outcome = Literal["regressed", "improved", "unchanged"]
UNITS: dict[Metric, str] = {
    "p50": "ms",
    "p95": "ms",
    "p99": "ms",
    "error_rate": "",
    "throughput": "req/s",
}


@dataclass(frozen=True)
class Comparison:
    """One figure of one row, baseline against now."""

    metric: Metric
    baseline: float
    now: float
    tolerance: float
    """Absolute, in the metric's unit."""
    noise: float
    """The noise bound, absolute."""
    outcome: Outcome

    @property
    def change(self) -> float:
        return self.now - self.baseline

    @property
    def relative(self) -> float | None:
        return self.change / self.baseline if self.baseline else None

    def words(self) -> str:
        """``p95 rose 2.1 → 33.0 ms (+1471%), beyond the tolerance 0.21 ms and the noise
        bound 1.3 ms``."""
        verb = {True: "rose", False: "fell"}[self.change >= 0]
        unit = UNITS[self.metric]
        if self.metric == "error_rate":
            return (
                f"error rate {verb} {self.baseline:.2%} → {self.now:.2%} "
                f"({self.change * 100:+.2f}pp), tolerance {self.tolerance * 100:.2f}pp, "
                f"noise bound {self.noise * 100:.2f}pp"
            )
        relative = f" ({self.relative:+.0%})" if self.relative is not None else ""
        return (
            f"{self.metric} {verb} {self.baseline:.4g} → {self.now:.4g} {unit}{relative}, "
            f"tolerance {self.tolerance:.3g} {unit}, noise bound {self.noise:.3g} {unit}"
        )


def decide(
    metric: Metric,
    baseline: float,
    now: float,
    errors: tuple[float, float],
    tolerance: float,
) -> Comparison:
    """Judge one figure; ``errors`` are the two runs' standard errors, ``tolerance`` the
    profile's fraction (of the baseline, or absolute for the error rate)."""
    worse = baseline - now if metric == "throughput" else now - baseline
    allowed = tolerance if metric == "error_rate" else tolerance * abs(baseline)
    noise = NOISE_Z * math.hypot(*errors)
    outcome: Outcome = "unchanged"
    if worse > allowed and worse > noise:
        outcome = "regressed"
    elif -worse > allowed and -worse > noise:
        outcome = "improved"
    return Comparison(metric, baseline, now, allowed, noise, outcome)


def comparable(metric: Metric, baseline: RowSample, now: RowSample) -> bool:
    """A percentile is compared only when each run has ``MIN_TAIL`` requests above it: the
    p99 of 80 requests is their slowest one, and no spread estimated from one request holds."""
    q = QUANTILES.get(metric)
    if q is None:
        return True
    return all(sum(n for _, n in s.latencies) * (1 - q) >= MIN_TAIL for s in (baseline, now))


def compare(
    baseline: tuple[RowSample, Errors], now: tuple[RowSample, Errors], tolerances: Tolerances
) -> list[Comparison]:
    """Every figure of one row that both runs measured well enough (``comparable``)."""
    (base, base_errors), (current, current_errors) = baseline, now
    return [
        decide(
            metric,
            base.figure(metric),
            current.figure(metric),
            (base_errors.of(metric), current_errors.of(metric)),
            tolerances.of(metric),
        )
        for metric in METRICS
        if comparable(metric, base, current)
    ]
