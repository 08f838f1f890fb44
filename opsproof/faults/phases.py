"""What the background load's users saw in each phase of an experiment, and the phases'
limits judged.

Phases are spans of wall-clock time: *before* the injection (the baseline), *during* the fault
(injection to revert), *recovering* (revert until the steady state recovered) and *after*
(from recovery on). The load counts its requests in whole seconds from its start, so a phase
is judged on the seconds that lie wholly inside it; a second a boundary cuts through belongs
to no phase (its requests cannot be told apart) and is counted in ``load.cut_seconds``.
Percentiles are exact over the phase's seconds: each second carries its HDR histogram, and
the phase's are merged (not a maximum of per-second percentiles).
"""

import math
from dataclasses import dataclass, field
from typing import get_args

from opsproof.config.limits import Limit
from opsproof.config.models import BackgroundLoadSpec, LoadPhase, PhaseExpectSpec
from opsproof.load.result import LoadResult
from opsproof.load.stats import Trend
from opsproof.probes.result import Figure

PHASES: tuple[LoadPhase, ...] = get_args(LoadPhase)
WORDS: dict[LoadPhase, str] = {
    "before": "before the injection",
    "during": "during the fault",
    "recovering": "between the revert and recovery",
    "after": "after recovery",
}


@dataclass(frozen=True)
class Bounds:
    """Phase boundaries, wall-clock seconds (``time.time()``), as the load's start is."""

    injected: float
    reverted: float
    recovered: float | None
    """None: the steady state never recovered (no *after* phase)."""

    def spans(self) -> dict[LoadPhase, tuple[float, float]]:
        recovered = math.inf if self.recovered is None else self.recovered
        return {
            "before": (-math.inf, self.injected),
            "during": (self.injected, self.reverted),
            "recovering": (self.reverted, recovered),
            "after": (recovered, math.inf),
        }


@dataclass
class Phase:
    """The load's whole seconds inside one phase."""

    seconds: int = 0
    requests: int = 0
    failures: int = 0
    durations: Trend = field(default_factory=Trend)

    @property
    def error_rate(self) -> float | None:
        return self.failures / self.requests if self.requests else None

    def percentile(self, percent: float) -> float | None:
        return self.durations.percentile_ms(percent) if self.durations.count else None


@dataclass(frozen=True)
class Judged:
    """Figures for the evidence; problems (a limit not met) fail the experiment; missing
    (nothing to judge a limit on) leaves it inconclusive."""

    figures: dict[str, Figure]
    problems: list[str]
    missing: list[str]
    met: list[str] = field(default_factory=list)
    """The limits met, with the actual values: ``during error_rate 12.50% (<= 30%)``."""


def split(result: LoadResult, bounds: Bounds) -> tuple[dict[LoadPhase, Phase], int]:
    """Each phase's seconds, and how many seconds a boundary cut."""
    origin = min(s.started_at for s in result.scenarios)
    phases: dict[LoadPhase, Phase] = {name: Phase() for name in PHASES}
    cut = 0
    spans = bounds.spans()
    for second in result.timeline:
        start = origin + second.t
        name = next((n for n, (a, b) in spans.items() if a <= start and start + 1 <= b), None)
        if name is None:
            cut += 1
            continue
        phase = phases[name]
        phase.seconds += 1
        phase.requests += second.requests
        phase.failures += second.failures
        if second.durations is not None:
            phase.durations.merge(Trend.from_wire(second.durations))
    return phases, cut


def judge_load(
    spec: BackgroundLoadSpec, result: LoadResult | None, bounds: Bounds, trouble: list[str]
) -> Judged:
    """Per-phase figures and the limits judged; ``trouble`` is what went wrong with the load
    generator (its errors, saturation), which makes its figures no ground for a verdict."""
    if result is None or not result.scenarios:
        why = "; ".join(trouble) or "the load left no result"
        return Judged({}, [], [f"background load: {why}"] if spec.expect else [])
    met: list[str] = []
    phases, cut = split(result, bounds)
    figures = {
        "load.requests": Figure(sum(s.requests for s in result.timeline)),
        "load.cut_seconds": Figure(cut, "s"),
        "load.duration_s": Figure(round(result.duration_s, 3), "s"),
    }
    problems: list[str] = []
    missing = [f"background load: {t}" for t in trouble] if spec.expect else []
    for name in PHASES:
        phase, limits = phases[name], spec.expect.get(name, PhaseExpectSpec())
        figures.update(_figures(name, phase, limits))
        for key, limit, value in _checks(phase, limits):
            said = f"load {WORDS[name]}"
            if phase.requests == 0 or value is None:
                missing.append(
                    f"{said}: no request completed in the phase's {phase.seconds} whole seconds "
                    f"to judge {key} {limit} on (requests hung, or too short a phase: hold the "
                    "fault longer with duration, or lengthen the profile)"
                )
            elif not limit.holds(value):
                problems.append(
                    f"{said}: {key} {_shown(key, value)}, limit {limit} ({phase.requests} "
                    f"requests, {phase.failures} failed, in {phase.seconds} whole seconds)"
                )
            else:
                met.append(f"{name} {key} {_shown(key, value)} ({limit})")
    return Judged(figures, problems, missing, met)


def _checks(phase: Phase, limits: PhaseExpectSpec) -> list[tuple[str, Limit, float | None]]:
    values: dict[str, float | None] = {
        "error_rate": phase.error_rate,
        "p50": phase.percentile(50),
        "p95": phase.percentile(95),
        "p99": phase.percentile(99),
        "requests": float(phase.requests),
    }
    return [
        (key, limit, values[key]) for key in values if (limit := getattr(limits, key)) is not None
    ]


def _shown(key: str, value: float) -> str:
    if key == "error_rate":
        return f"{value:.2%}"
    if key == "requests":
        return f"{value:.0f}"
    return f"{value:g} ms"


def _figures(name: LoadPhase, phase: Phase, limits: PhaseExpectSpec) -> dict[str, Figure]:
    def target(key: str) -> str | None:
        limit = getattr(limits, key)
        if limit is None:
            return None
        bound = f"{limit.bound:g}"
        return f"{limit.op} {bound}"

    prefix = f"load.{name}"
    figures = {
        f"{prefix}.seconds": Figure(phase.seconds, "s"),
        f"{prefix}.requests": Figure(phase.requests, target=target("requests")),
    }
    if phase.error_rate is not None:
        figures[f"{prefix}.error_rate"] = Figure(
            round(phase.error_rate, 6), target=target("error_rate")
        )
    for percent in (50, 95, 99):
        value = phase.percentile(percent)
        if value is not None:
            key = f"p{percent}"
            figures[f"{prefix}.{key}_ms"] = Figure(value, "ms", target(key))
    return figures
