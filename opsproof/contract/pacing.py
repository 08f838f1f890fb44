"""A probe's two bounds shared by its operations: the wall-time budget and the request rate.

The budget starts when the first operation starts. Each operation then gets an equal share of
what is left over the operations still to run, so one that finishes early leaves its time to
the rest and none can starve the last; every request's deadline is capped by the budget's end.
"""

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """One operation's time: it explores until ``share_end``; nothing is sent after ``end``."""

    share_end: float
    end: float

    def left(self) -> float:
        return self.end - time.monotonic()


class Budget:
    """``seconds`` of wall time for ``operations`` runs (thread-safe)."""

    def __init__(self, seconds: float, operations: int) -> None:
        self.seconds = seconds
        self._left = max(operations, 1)
        self._end: float | None = None
        self._lock = threading.Lock()

    def next_window(self) -> Window:
        """The next operation's window; the first call starts the budget."""
        with self._lock:
            now = time.monotonic()
            if self._end is None:
                self._end = now + self.seconds
            share = max(self._end - now, 0.0) / self._left
            self._left = max(self._left - 1, 1)
            return Window(now + share, self._end)


class Pacer:
    """At most ``rate`` requests a second, over every operation of a probe (thread-safe)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self, deadline: float) -> bool:
        """Sleep until a request may go; False, without sleeping, if its turn comes after
        ``deadline``."""
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next)
            if turn >= deadline:
                return False
            self._next = turn + self._interval
        time.sleep(turn - now)
        return True
