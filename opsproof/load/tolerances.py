"""How far a run may drift from its baseline before it is a regression: the profile's
``regression:`` key, at profile level and per request name.

Latency and throughput tolerances are relative to the baseline (``p95: 10%``); the error rate's
is absolute, in percentage points (``error_rate: 0.5pp``), since a relative change of a rate
near zero means nothing.
"""

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

Metric = Literal["p50", "p95", "p99", "error_rate", "throughput"]
METRICS: tuple[Metric, ...] = ("p50", "p95", "p99", "error_rate", "throughput")
DEFAULTS: dict[Metric, float] = {
    "p50": 0.10,
    "p95": 0.10,
    "p99": 0.10,
    "error_rate": 0.005,
    "throughput": 0.10,
}
"""Applied where the profile says nothing: 10% on latency and throughput, 0.5pp on errors."""

_AMOUNT = re.compile(r"^\s*(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>%|pp)\s*$")


def _amount(unit: str, value: object) -> float:
    """``'10%'`` → 0.10, ``'0.5pp'`` → 0.005: both are fractions once read."""
    match = _AMOUNT.match(value) if isinstance(value, str) else None
    if match is None or match["unit"] != unit:
        example = "10%" if unit == "%" else "0.5pp"
        raise ValueError(f"write a tolerance as a number followed by {unit}, e.g. {example!r}")
    return float(match["number"]) / 100.0


Percent = Annotated[float, BeforeValidator(lambda value: _amount("%", value))]
Points = Annotated[float, BeforeValidator(lambda value: _amount("pp", value))]


class ToleranceSpec(BaseModel):
    """Tolerances of one level; a key left out falls back to the level above."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    p50: Percent | None = Field(default=None, description="rise of the median, e.g. 10%")
    p95: Percent | None = Field(default=None, description="rise of p95, e.g. 10%")
    p99: Percent | None = Field(default=None, description="rise of p99, e.g. 10%")
    error_rate: Points | None = Field(default=None, description="rise in points, e.g. 0.5pp")
    throughput: Percent | None = Field(default=None, description="fall of requests/s, e.g. 10%")


class RegressionSpec(ToleranceSpec):
    """``regression:`` in a profile: tolerances for every name, and per request name."""

    names: dict[str, ToleranceSpec] = Field(
        default_factory=dict, description="per request name (k6's name tag), e.g. {upload: ...}"
    )


@dataclass(frozen=True)
class Tolerances:
    """The tolerance of each metric for one row, defaults filled in."""

    values: dict[Metric, float]

    def of(self, metric: Metric) -> float:
        return self.values[metric]


def tolerances_for(spec: RegressionSpec | None, name: str | None) -> Tolerances:
    """``name``'s tolerances (``None``: every request together): the name's own, else the
    profile's, else the defaults."""
    levels: list[ToleranceSpec] = []
    if spec is not None:
        if name is not None and name in spec.names:
            levels.append(spec.names[name])
        levels.append(spec)
    values: dict[Metric, float] = {}
    for metric in METRICS:
        found = (getattr(level, metric) for level in levels)
        values[metric] = next((v for v in found if v is not None), DEFAULTS[metric])
    return Tolerances(values)
