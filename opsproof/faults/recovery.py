"""Recovery measured, not assumed: poll at <= 100 ms on the monotonic clock."""

import time
from collections.abc import Callable
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


def measure_recovery(
    check: Callable[[], Observation],
    since: float,
    *,
    within: float,
    consecutive: int,
    interval: float,
) -> Recovery:
    """Poll ``check`` every ``interval`` until ``consecutive`` passes in a row or ``within``
    seconds after ``since`` (a ``time.monotonic()`` instant). A pass counts at the moment its
    answer arrived, so a probe that waited on a frozen service counts when it thawed."""
    deadline = since + within
    first = streak_start = None
    streak = checks = 0
    while True:
        began = time.monotonic()
        observation = check()
        now = time.monotonic()
        checks += 1
        if observation.ok:
            streak += 1
            first = now if first is None else first
            streak_start = now if streak == 1 else streak_start
            if streak >= consecutive:
                assert first is not None and streak_start is not None
                return Recovery(
                    round(first - since, 4),
                    round(streak_start - since, 4),
                    round(now - since, 4),
                    checks,
                    observation,
                )
        else:
            streak, streak_start = 0, None
        if now >= deadline:
            first_s = None if first is None else round(first - since, 4)
            return Recovery(first_s, None, None, checks, observation)
        # keep the cadence: the next check starts ``interval`` after this one started
        time.sleep(max(0.0, min(began + interval, deadline) - now))
