"""Waiting for something to become true: a poll with a deadline on the monotonic clock, never a
bare sleep as synchronisation (STYLE.md, principle 7)."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

MIN_TIME_LEFT = 1.0
"""What a step is still given when its deadline is near or past: one running late gets its own
answer (or its own timeout, named), not a cut-off with nothing to report."""

POLL_INTERVAL = 0.05
"""How long every wait sleeps between two looks: short enough that a wait ends within 50 ms of
its condition holding, long enough that a wait costs no noticeable CPU. Measurements that
sample at a rate of their own (steady-state probes, load progress) set theirs."""


def poll(read: Callable[[], T], accept: Callable[[T], bool], timeout: float) -> tuple[bool, T]:
    """Read until ``accept`` takes the value or ``timeout`` seconds pass: whether it did, and
    the last value read (to word a failure). Read at least once, and once more at the
    deadline, so a value that arrives by then is never missed."""
    deadline = time.monotonic() + timeout
    while not accept(value := read()):
        left = deadline - time.monotonic()
        if left <= 0:
            return False, value
        time.sleep(min(POLL_INTERVAL, left))
    return True, value


def poll_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether ``condition`` held within ``timeout`` seconds (tried as :func:`poll` reads)."""
    return poll(condition, bool, timeout)[0]


def time_left(deadline: float) -> float:
    """Seconds until the monotonic ``deadline``, but at least ``MIN_TIME_LEFT``."""
    return max(MIN_TIME_LEFT, deadline - time.monotonic())
