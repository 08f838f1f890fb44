"""Convergence: retry a probe until it passes or a deadline passes, timing how long it took."""

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from opsproof.probes.result import Figure, Observation


@dataclass(frozen=True)
class Converged:
    """The last observation (carrying a ``convergence_s`` figure) and how it was reached."""

    observation: Observation
    attempts: int
    seconds: float
    """From the first attempt to the one that passed, or to the last one when none did."""

    def __bool__(self) -> bool:
        return self.observation.ok


def converge(probe: Callable[[], Observation], timeout: float, interval: float) -> Converged:
    """Call ``probe`` until it passes or ``timeout`` seconds pass; ``timeout=0`` means one try.

    The wait between attempts never overshoots the deadline, and a final attempt is made at it.
    """
    start = time.monotonic()
    deadline = start + timeout
    attempts = 0
    while True:
        observation = probe()
        attempts += 1
        now = time.monotonic()
        if observation.ok or not observation.applicable or now >= deadline:
            break
        time.sleep(min(interval, deadline - now))
    seconds = round(now - start, 3)
    figure = Figure(seconds, "s", f"<= {timeout:g}")
    figures = {**observation.figures, "convergence_s": figure}
    return Converged(replace(observation, figures=figures), attempts, seconds)
