"""The steady state observed without a gap, from before the injection until recovery is
confirmed after the revert: one poller (<= 100 ms, monotonic clock) in its own thread.

Impact, outage and recovery are all read from what this poller saw, so the outage is observed,
never computed from the fault's timing: "recovered 2.1 s after the revert" was read as "down
for 2.1 s" while users had been cut off for 3.1 s (the fault was held for 1 s before that).
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opsproof.faults.recovery import Sample
from opsproof.probes.result import Observation

STOP_TIMEOUT = 10.0
"""How long stopping waits for a check in flight (each probe has its own, shorter, timeout)."""


class SteadyPoller:
    """Runs ``check`` every ``interval`` (each check starts ``interval`` after the previous one
    started, or at once when that one took longer) from ``with`` until the block ends."""

    def __init__(self, check: Callable[[], Observation], interval: float) -> None:
        self.interval = interval
        self._check = check
        self._samples: list[Sample] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="opsproof-steady", daemon=True)

    def __enter__(self) -> "SteadyPoller":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(STOP_TIMEOUT)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                observation = self._check()
            except Exception as exc:  # a probe that raises is a failed observation, not a gap
                observation = Observation(False, "steady state", f"the check raised {exc!r}")
            sample = Sample(started, time.monotonic(), observation)
            with self._changed:
                self._samples.append(sample)
                self._changed.notify_all()
            self._stop.wait(max(0.0, started + self.interval - time.monotonic()))

    def samples(self) -> list[Sample]:
        with self._changed:
            return list(self._samples)

    def wait_until(self, decided: Callable[[list[Sample]], bool], deadline: float) -> None:
        """Until ``decided(samples)`` holds or the monotonic ``deadline`` passes; short waits
        keep the caller responsive to Ctrl-C and SIGTERM."""
        with self._changed:
            while not decided(self._samples):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(min(self.interval, left))


@dataclass(frozen=True)
class Outage:
    """The first time the steady state was lost after the injection, as the poller saw it."""

    started: float
    """Monotonic: for a fault that acts at once (a kill), the injection or the last passing
    answer after it; otherwise when the first failed check was asked."""
    ended: float | None
    """Monotonic: when the answer of the first passing check after it arrived; None: not
    seen back while observed."""
    first_failure: str
    count: int
    """Separate outages seen while observed (a flapping service shows more than one)."""
    impact: float
    """Monotonic: when the first failed check was asked, or answered when it was asked before
    the injection."""

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started


def first_outage(samples: Sequence[Sample], injected: float, *, at_once: bool) -> Outage | None:
    """The first outage seen in ``samples`` after the monotonic instant ``injected``; None when
    every check answered after it passed (then there was no outage: 0 s).

    ``at_once``: the fault takes effect as it is injected (kill, stop, pause), so the outage
    began at the injection — or at the last passing answer, when one arrived after it (finding
    the processes to signal takes time) — not only when the poller next asked."""
    after = [s for s in samples if s.answered >= injected]
    failed = next((i for i, s in enumerate(after) if not s.observation.ok), None)
    if failed is None:
        return None
    first = after[failed]
    # a check in flight at the injection that failed saw the fault only when it answered
    impact = first.started if first.started >= injected else first.answered
    passed = [s.answered for s in after[:failed] if s.observation.ok]
    started = max([injected, *passed]) if at_once else impact
    back = next((s for s in after[failed:] if s.observation.ok), None)
    count = sum(
        1
        for i, s in enumerate(after)
        if not s.observation.ok and (i == 0 or after[i - 1].observation.ok)
    )
    return Outage(
        started=min(started, impact),
        ended=None if back is None else back.answered,
        first_failure=first.observation.reason,
        count=count,
        impact=impact,
    )
