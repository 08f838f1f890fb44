"""What each k6 executor intends, as pure functions of time: VUs at ``t``, the offset of the
n-th arrival, when new iterations stop, and how work is shared among generator processes.

The Locust workers follow these schedules; tests and verdicts compare against them.
"""

import bisect
import math
from dataclasses import dataclass

from opsproof.load.options import (
    ArrivalRate,
    ConstantArrivalRate,
    ConstantVus,
    PerVuIterations,
    RampingArrivalRate,
    RampingVus,
    Scenario,
    SharedIterations,
)


def share(count: int, index: int, workers: int) -> int:
    """How many of items ``0..count-1`` worker ``index`` of ``workers`` owns (item n goes to
    worker n mod workers): VU v and arrival n are split this way, so the shares sum exactly."""
    return max(0, (count - index + workers - 1) // workers)


def span(scenario: Scenario) -> float:
    """Seconds from the scenario's start (after startTime) until no new iteration may begin."""
    match scenario:
        case ConstantVus() | ConstantArrivalRate():
            return scenario.duration
        case RampingVus() | RampingArrivalRate():
            return sum(stage.duration for stage in scenario.stages)
        case PerVuIterations() | SharedIterations():
            return scenario.max_duration


def max_vus(scenario: Scenario) -> int:
    """The most VUs the scenario can use at once."""
    match scenario:
        case RampingVus():
            return max(scenario.start_vus, *(stage.target for stage in scenario.stages))
        case ConstantArrivalRate() | RampingArrivalRate():
            return scenario.vus_limit
        case ConstantVus() | PerVuIterations() | SharedIterations():
            return scenario.vus


def vus_at(scenario: RampingVus | ConstantVus, elapsed: float) -> int:
    """Intended active VUs ``elapsed`` seconds into the scenario.

    Within a ramp the count moves one VU at a time and rounds toward where the stage began
    (floor going up, ceil going down), as k6's ramping-vus execution steps do.
    """
    if isinstance(scenario, ConstantVus):
        return scenario.vus if 0 <= elapsed < scenario.duration else 0
    current, start = scenario.start_vus, 0.0
    for stage in scenario.stages:
        end = start + stage.duration
        if elapsed < end:
            progress = (elapsed - start) / stage.duration if stage.duration else 1.0
            exact = current + (stage.target - current) * max(progress, 0.0)
            return math.floor(exact) if stage.target >= current else math.ceil(exact)
        current, start = stage.target, end
    return current


@dataclass(frozen=True)
class _RateStage:
    start: float
    duration: float
    rate_from: float  # per second
    rate_to: float
    before: float  # arrivals intended before this stage

    def count(self, elapsed: float) -> float:
        """Arrivals intended in the first ``elapsed`` seconds of this stage (the rate's area)."""
        slope = (self.rate_to - self.rate_from) / self.duration if self.duration else 0.0
        return self.rate_from * elapsed + slope * elapsed * elapsed / 2

    def solve(self, arrivals: float) -> float:
        """Seconds into the stage at which ``arrivals`` have been intended."""
        slope = (self.rate_to - self.rate_from) / self.duration if self.duration else 0.0
        if slope == 0:
            return arrivals / self.rate_from
        # the stable root of slope/2·e² + rate_from·e − arrivals = 0
        root = math.sqrt(max(self.rate_from**2 + 2 * slope * arrivals, 0.0))
        return 2 * arrivals / (self.rate_from + root) if self.rate_from + root else 0.0


class ArrivalSchedule:
    """Arrival n (0, 1, 2, ...) begins when the integral of the rate reaches n, as in k6's
    arrival-rate executors: evenly spaced at a constant rate, closer together as a ramp rises."""

    def __init__(self, scenario: ArrivalRate) -> None:
        per_second = 1.0 / scenario.time_unit
        if isinstance(scenario, ConstantArrivalRate):
            ramps = [(scenario.duration, scenario.rate)]
            start_rate = scenario.rate
        else:
            ramps = [(stage.duration, stage.target) for stage in scenario.stages]
            start_rate = scenario.start_rate
        self._stages: list[_RateStage] = []
        start, before, rate_from = 0.0, 0.0, start_rate * per_second
        for duration, target in ramps:
            rate_to = target * per_second
            piece = _RateStage(start, duration, rate_from, rate_to, before)
            self._stages.append(piece)
            before += piece.count(duration)
            start, rate_from = start + duration, rate_to
        self.end = start
        self.total = math.ceil(before - 1e-9)
        self._befores = [piece.before for piece in self._stages]

    def offset(self, n: int) -> float | None:
        """Seconds after the scenario's start at which arrival ``n`` is intended; None if never."""
        if n >= self.total:
            return None
        # stages that hold no arrival share their ``before`` with the next: bisect skips them
        piece = self._stages[bisect.bisect_right(self._befores, n) - 1]
        return piece.start + piece.solve(n - piece.before)

    def before(self, elapsed: float) -> int:
        """How many arrivals are intended in the first ``elapsed`` seconds."""
        if elapsed <= 0:
            return 0
        for piece in reversed(self._stages):
            if elapsed >= piece.start:
                local = min(elapsed - piece.start, piece.duration)
                return min(self.total, math.ceil(piece.before + piece.count(local) - 1e-9))
        return 0
