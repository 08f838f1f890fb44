"""Convergence polling with a monotonic deadline."""

import itertools
import time
from collections.abc import Callable

from opsproof.probes.polling import converge
from opsproof.probes.result import Observation


def probe_passing_on(attempt: int) -> Callable[[], Observation]:
    calls = itertools.count(1)
    return lambda: Observation(next(calls) >= attempt, "svc", "seen")


def test_retries_until_the_probe_passes() -> None:
    converged = converge(probe_passing_on(3), timeout=5, interval=0.01)

    assert converged.observation.ok
    assert converged.attempts == 3
    assert 0.02 <= converged.seconds < 1
    assert converged.observation.figures["convergence_s"].target == "<= 5"


def test_timeout_zero_tries_once() -> None:
    converged = converge(probe_passing_on(2), timeout=0, interval=1)

    assert not converged
    assert converged.attempts == 1


def test_gives_up_at_the_deadline_with_the_last_observation() -> None:
    start = time.monotonic()
    converged = converge(probe_passing_on(10**6), timeout=0.3, interval=0.05)

    assert not converged.observation.ok
    assert converged.attempts >= 5
    assert 0.3 <= converged.seconds < 0.4
    assert time.monotonic() - start < 0.45
