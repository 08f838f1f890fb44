"""Executor gates inside one Locust worker: every VU asks its gate before each iteration.

A gate holds its worker's share of the scenario (VU v and arrival n belong to worker
v mod workers, so the shares sum exactly to the profile's numbers) and blocks a VU until its
next iteration may begin; a VU with no more work parks until Locust stops it.
"""

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

import gevent
from gevent.event import Event

from opsproof.load.options import (
    ArrivalRate,
    ConstantVus,
    PerVuIterations,
    RampingVus,
    Scenario,
    SharedIterations,
)
from opsproof.load.schedules import ArrivalSchedule, max_vus, share, span, vus_at

TICK_S = 0.01
"""How often a VU-based gate re-reads its target: ramps move VUs within 10 ms of schedule."""


@dataclass(eq=False)
class Vu:
    """One Locust user as the gate sees it."""

    rank: int
    """Its order of arrival on this worker: local rank r is global VU r·workers + index."""
    wake: Event = field(default_factory=Event)
    intended: float | None = None
    iterations: int = 0


class Gate:
    """What every executor shares: start, close, busy accounting, and the end of the run."""

    def __init__(self, scenario: Scenario, index: int, workers: int) -> None:
        self.scenario = scenario
        self.index, self.workers = index, workers
        self.vus_needed = share(max_vus(scenario), index, workers)
        self.registered: list[Vu] = []
        self.started = 0
        self.busy = 0
        self.closed_reason: str | None = None
        self.closed_at: float | None = None
        self.t0 = 0.0
        self._begun = Event()
        self._never = Event()
        self._drained = Event()
        self._drained.set()
        self.finished = Event()
        """Set when no iteration will begin again and none is running (or grace ran out)."""

    def register(self) -> Vu:
        vu = Vu(len(self.registered))
        self.registered.append(vu)
        return vu

    def start(self, t0: float) -> None:
        self.t0 = t0
        self._begun.set()
        gevent.spawn(self._watch)

    def close(self, reason: str, *, now: bool = False) -> None:
        """No new iteration begins; with ``now``, do not wait for running ones either."""
        if self.closed_reason is None:
            self.closed_reason = reason
            self.closed_at = self.elapsed()
        if now:
            self.finished.set()

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def enter(self, vu: Vu) -> float | None:
        """Block until ``vu`` may begin an iteration; the intended start (monotonic) or None."""
        self._begun.wait()
        if self.closed_reason is not None:
            self._park()
        intended = self._admit(vu)
        if self.closed_reason is not None:
            self._park()
        if self.busy == 0:  # else still clear: it is set only when the last one leaves
            self._drained.clear()
        self.busy += 1
        self.started += 1
        return intended

    def leave(self) -> None:
        self.busy -= 1
        if self.busy == 0:
            self._drained.set()

    def active_vus(self) -> int:
        """VUs at work or allowed to work now; once closed, those finishing an iteration."""
        return self.busy if self.closed_reason else self._allowed()

    def _allowed(self) -> int:
        return min(len(self.registered), self.vus_needed)

    def _admit(self, vu: Vu) -> float | None:
        raise NotImplementedError

    def _work_left(self) -> bool:
        return self.elapsed() < span(self.scenario)

    def _park(self) -> NoReturn:
        while True:
            self._never.wait()

    def _watch(self) -> None:
        """Close at the end of the schedule, then allow gracefulStop for running iterations."""
        while self.closed_reason is None and self._work_left():
            gevent.sleep(TICK_S * 5)
        self.close("schedule complete")
        grace = self.scenario.graceful_stop
        self._drained.wait(timeout=max(0.0, grace))
        self.finished.set()


class VuGate(Gate):
    """constant-vus and ramping-vus: VU r works while r is below this worker's share of the
    intended VU count; the count is re-read every tick."""

    def __init__(self, scenario: ConstantVus | RampingVus, index: int, workers: int) -> None:
        super().__init__(scenario, index, workers)
        self._shape = scenario
        self.target = 0

    def start(self, t0: float) -> None:
        super().start(t0)
        gevent.spawn(self._follow)

    def _allowed(self) -> int:
        return min(len(self.registered), self.target)

    def _admit(self, vu: Vu) -> float | None:
        while vu.rank >= self.target:
            if vu.rank >= self.vus_needed or self.closed_reason is not None:
                self._park()
            vu.wake.clear()
            vu.wake.wait()
        return None

    def _follow(self) -> None:
        while self.closed_reason is None:
            target = share(vus_at(self._shape, self.elapsed()), self.index, self.workers)
            if target > self.target:
                for vu in self.registered[self.target : target]:
                    vu.wake.set()
            self.target = target
            if target and isinstance(self._shape, ConstantVus):
                return  # constant until the gate closes: no need to keep waking up
            gevent.sleep(TICK_S)


class IterationGate(Gate):
    """per-vu-iterations (each VU its count) and shared-iterations (this worker's share of the
    total, taken by whichever VU is free); both end early when the work is done."""

    def __init__(
        self, scenario: PerVuIterations | SharedIterations, index: int, workers: int
    ) -> None:
        super().__init__(scenario, index, workers)
        self._per_vu = scenario.iterations if isinstance(scenario, PerVuIterations) else None
        # the shared iterations go to the workers that have VUs: with fewer VUs than workers,
        # a worker without one would hold its share until maxDuration
        with_vus = min(workers, scenario.vus)
        self.pool = (
            self.vus_needed * scenario.iterations
            if self._per_vu is not None
            else share(scenario.iterations, index, with_vus)
            if index < with_vus
            else 0
        )

    def _admit(self, vu: Vu) -> float | None:
        per_vu_done = self._per_vu is not None and vu.iterations >= self._per_vu
        if vu.rank >= self.vus_needed or self.pool == 0 or per_vu_done:
            self._park()
        self.pool -= 1
        vu.iterations += 1
        return None

    def _work_left(self) -> bool:
        return self.pool > 0 and super()._work_left()


class ArrivalGate(Gate):
    """constant- and ramping-arrival-rate: a dispatcher hands each of this worker's arrivals to
    an idle VU at its intended time; with none idle the arrival is dropped and, below maxVUs,
    one more VU is allocated for the next (as k6 does)."""

    def __init__(
        self,
        scenario: ArrivalRate,
        index: int,
        workers: int,
        arrived: Callable[[bool], None],
    ) -> None:
        super().__init__(scenario, index, workers)
        self.schedule = ArrivalSchedule(scenario)
        self.allocated = share(scenario.pre_allocated_vus, index, workers)
        self.idle: deque[Vu] = deque()
        self.dropped = 0
        self.intended = 0
        self.handed = 0
        """Arrivals handed to a VU that has not entered yet: the schedule is not done before."""
        self._arrived = arrived
        """Told of every arrival: True when it was dropped."""

    def start(self, t0: float) -> None:
        super().start(t0)
        gevent.spawn(self._dispatch)

    def _allowed(self) -> int:
        return min(len(self.registered), self.allocated)

    def _admit(self, vu: Vu) -> float | None:
        if vu.rank >= self.vus_needed:
            self._park()
        while vu.rank >= self.allocated:
            vu.wake.clear()
            vu.wake.wait()
        vu.wake.clear()
        self.idle.append(vu)
        vu.wake.wait()
        self.handed -= 1  # no greenlet switch from here until enter() counts it as started
        return vu.intended

    def _work_left(self) -> bool:
        due = self.schedule.offset(self.intended * self.workers + self.index) is not None
        return due or self.handed > 0

    def _dispatch(self) -> None:
        n = self.index
        while self.closed_reason is None:
            offset = self.schedule.offset(n)
            if offset is None:
                return
            due = self.t0 + offset
            delay = due - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            if self.closed_reason is not None:
                return
            self.intended += 1
            self._arrived(not self.idle)
            if self.idle:
                vu = self.idle.popleft()
                vu.intended = due
                self.handed += 1
                vu.wake.set()
            else:
                self.dropped += 1
                if self.allocated < self.vus_needed:
                    self.allocated += 1
                    if self.allocated <= len(self.registered):
                        self.registered[self.allocated - 1].wake.set()
            n += self.workers


def gate_for(scenario: Scenario, index: int, workers: int, arrived: Callable[[bool], None]) -> Gate:
    """The gate for the scenario's executor; ``arrived`` hears of every arrival (dropped?)."""
    match scenario:
        case ConstantVus() | RampingVus():
            return VuGate(scenario, index, workers)
        case PerVuIterations() | SharedIterations():
            return IterationGate(scenario, index, workers)
        case _:
            return ArrivalGate(scenario, index, workers, arrived)
