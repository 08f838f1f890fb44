"""Each threshold's verdict: passed, failed, or inconclusive when the generator was unhealthy.

One deliberate difference from k6: a threshold whose metric received no samples fails (k6
passes it), because a silent pass is how a misspelt submetric hides a broken SLO.
"""

from dataclasses import dataclass

from opsproof.evidence.verdict import Judgement
from opsproof.load.health import Health
from opsproof.load.metrics import BUILTIN, REQUEST_TAGS
from opsproof.load.name_rows import why_failed
from opsproof.load.profile import Threshold
from opsproof.load.result import LoadResult

REQUEST_METRICS = frozenset(name for name, spec in BUILTIN.items() if spec.tags == REQUEST_TAGS)
"""Metrics of requests: a failed threshold on one says why requests failed, if any did."""


@dataclass(frozen=True)
class ThresholdVerdict:
    """One threshold judged: the outcome, why, and the value behind it."""

    outcome: Judgement
    reason: str
    value: float | None = None
    samples: int = 0
    unit: str = ""


def judge(threshold: Threshold, result: LoadResult, health: Health) -> ThresholdVerdict:
    name = threshold.id
    if result.errors:
        return ThresholdVerdict(
            "failed", f"{name}: the load run failed: {'; '.join(result.errors)}"
        )
    samples = result.metrics.samples(str(threshold.selector))
    value = (
        result.metrics.aggregate(threshold.selector, threshold.expression, result.duration_s)
        if samples
        else None
    )
    if not health.ok:
        seen = "no samples" if value is None else f"{threshold.expression.aggregation}={value:g}"
        return ThresholdVerdict(
            "inconclusive", f"{name}: inconclusive ({seen}): {'; '.join(health.reasons)}",
            value, samples,
        )  # fmt: skip
    if value is None:
        return ThresholdVerdict(
            "failed",
            f"{name}: no samples for {threshold.selector}, so nothing was verified (k6 would "
            "pass this threshold; opsproof fails it: check the metric, tags and scenario)",
        )
    unit = BUILTIN[threshold.selector.metric].unit if threshold.expression.method != "rate" else ""
    shown = f"{threshold.expression.aggregation}={value:g}{(' ' + unit) if unit else ''}"
    if threshold.expression.passes(value):
        return ThresholdVerdict(
            "passed", f"{name}: {shown}, {samples} samples", value, samples, unit
        )
    aborted = f"; {result.aborted}" if result.aborted and result.aborted.startswith(name) else ""
    why = ""
    if threshold.selector.metric in REQUEST_METRICS:
        tagged = dict(threshold.selector.tags).get("name")
        failures = why_failed(result.breakdown, tagged)
        why = f"; {failures}" if failures else ""
    return ThresholdVerdict(
        "failed",
        f"{name}: {shown} does not meet {threshold.expression} ({samples} samples){aborted}{why}",
        value,
        samples,
        unit,
    )
