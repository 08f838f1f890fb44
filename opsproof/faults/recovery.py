"""Recovery measured, not assumed: poll at <= 100 ms on the monotonic clock.

The same rule judges a check polled here (``measure_recovery``) and the samples of the
experiment's steady-state probes, each polled on its own through the fault window
(``recovery_from``): recovered once every probe has passed ``consecutive`` times in a row with
no failure of any probe in between.
"""

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from opsproof.probes.result import Observation


@dataclass(frozen=True)
class Recovery:
    first_success_s: float | None
    """From ``since`` to the first passing check."""
    recovered_s: float | None
    """From ``since`` to the first check of the run of ``consecutive`` passes that ended the
    outage; None when that run did not happen before the deadline."""
    stable_s: float | None
    """From ``since`` to the last check of that run (when recovery was confirmed)."""
    checks: int
    last: Observation


@dataclass(frozen=True)
class Sample:
    """One check on the monotonic clock: when it was asked and when its answer arrived."""

    started: float
    answered: float
    observation: Observation
    probe: int = 0
    """Which of the steady state's probes answered (each is polled on its own)."""


class _Streak:
    """Answers in order after ``since``: recovered once every one of ``probes`` probes has
    passed ``consecutive`` times in a row with no failure of any probe in between; given up on
    at the first answer at or after the deadline. A pass counts at the moment its answer
    arrived, so a probe that waited on a frozen service counts when it thawed."""

    def __init__(self, since: float, within: float, consecutive: int, probes: int = 1) -> None:
        self.since, self.deadline, self.consecutive = since, since + within, consecutive
        self.first: float | None = None
        self.start: float | None = None
        self.passes = [0] * probes
        self.checks = 0
        self.last: Observation | None = None

    def add(self, observation: Observation, answered: float, probe: int = 0) -> Recovery | None:
        """The verdict once this answer decides it, else None."""
        self.checks += 1
        self.last = observation
        if observation.ok:
            self.passes[probe] += 1
            if min(self.passes) >= 1:  # every probe has passed since the last failure
                self.first = answered if self.first is None else self.first
                self.start = answered if self.start is None else self.start
            if min(self.passes) >= self.consecutive:
                assert self.first is not None and self.start is not None
                return Recovery(
                    round(self.first - self.since, 4),
                    round(self.start - self.since, 4),
                    round(answered - self.since, 4),
                    self.checks,
                    observation,
                )
        else:
            self.passes, self.start = [0] * len(self.passes), None
        if answered >= self.deadline:
            return self.give_up()
        return None

    def give_up(self) -> Recovery:
        first_s = None if self.first is None else round(self.first - self.since, 4)
        last = self.last or Observation(False, "steady state", "no check answered")
        return Recovery(first_s, None, None, self.checks, last)


def measure_recovery(
    check: Callable[[], Observation],
    since: float,
    *,
    within: float,
    consecutive: int,
    interval: float,
) -> Recovery:
    """Poll ``check`` every ``interval`` until ``consecutive`` passes in a row or ``within``
    seconds after ``since`` (a ``time.monotonic()`` instant)."""
    streak = _Streak(since, within, consecutive)
    while True:
        began = time.monotonic()
        observation = check()
        now = time.monotonic()
        decided = streak.add(observation, now)
        if decided is not None:
            return decided
        # keep the cadence: the next check starts ``interval`` after this one started
        time.sleep(max(0.0, min(began + interval, streak.deadline) - now))


def recovery_from(
    samples: Iterable[Sample],
    since: float,
    *,
    within: float,
    consecutive: int,
    probes: int = 1,
    final: bool = False,
) -> Recovery | None:
    """Recovery after ``since`` (the revert) judged from the answers of ``probes`` probes, in
    the order they arrived; None while undecided, unless ``final`` (polling has stopped: then
    not recovered).

    A check asked before ``since`` counts only when it passed: a probe that hung on the frozen
    service and answered once it thawed; one that failed says nothing about the time after."""
    streak = _Streak(since, within, consecutive, probes)
    for sample in sorted(samples, key=lambda s: s.answered):
        ok = sample.observation.ok
        if sample.started >= since or (ok and sample.answered >= since):
            decided = streak.add(sample.observation, sample.answered, sample.probe)
            if decided is not None:
                return decided
    return streak.give_up() if final else None
