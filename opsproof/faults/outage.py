"""The steady state observed without a gap, from before the injection until recovery is
confirmed after the revert: each of its probes polled on its own (<= 100 ms, monotonic clock),
so a probe that hangs on a frozen dependency does not blind the others.

Impact, outage and recovery are all read from what these pollers saw, so the outage is
observed, never computed from the fault's timing: "recovered 2.1 s after the revert" was read
as "down for 2.1 s" while users had been cut off for 3.1 s (the fault was held for 1 s before
that).
"""

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opsproof.faults.recovery import Sample
from opsproof.probes.result import Observation

STOP_TIMEOUT = 10.0
"""How long stopping waits for a check in flight (each probe has its own, shorter, timeout)."""

Probe = Callable[[], Observation]


class SteadyPoller:
    """Runs every probe every ``interval``, each in its own thread (a probe's next check starts
    ``interval`` after its previous one started, or at once when that one took longer), from
    ``with`` until the block ends."""

    def __init__(self, probes: Sequence[Probe], interval: float) -> None:
        self.interval = interval
        self.probes = len(probes)
        self._samples: list[Sample] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(index, probe), daemon=True,
                             name=f"opsproof-steady-{index}")
            for index, probe in enumerate(probes)
        ]  # fmt: skip

    def __enter__(self) -> "SteadyPoller":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        deadline = time.monotonic() + STOP_TIMEOUT
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self, index: int, probe: Probe) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                observation = probe()
            except Exception as exc:  # a probe that raises is a failed observation, not a gap
                observation = Observation(False, "steady state", f"the probe raised {exc!r}")
            sample = Sample(started, time.monotonic(), observation, index)
            with self._changed:
                self._samples.append(sample)
                self._changed.notify_all()
            self._stop.wait(max(0.0, started + self.interval - time.monotonic()))

    def samples(self) -> list[Sample]:
        """Every probe's answers, in the order they arrived."""
        with self._changed:
            return sorted(self._samples, key=lambda s: s.answered)

    def wait_until(self, decided: Callable[[list[Sample]], bool], deadline: float) -> None:
        """Until ``decided(samples)`` holds or the monotonic ``deadline`` passes; short waits
        keep the caller responsive to Ctrl-C and SIGTERM."""
        with self._changed:
            while not decided(self._samples):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._changed.wait(min(self.interval, left))


def steady_states(samples: Sequence[Sample], probes: int) -> list[Sample]:
    """The steady state as of each answer: failed while the latest answer of any probe failed
    (a probe not heard from yet counts as passing: the steady state held before the fault)."""
    latest: list[Observation | None] = [None] * probes
    states = []
    for sample in sorted(samples, key=lambda s: s.answered):
        latest[sample.probe] = sample.observation
        failed = [o.reason for o in latest if o is not None and not o.ok]
        observation = Observation(
            not failed, "steady state", "; ".join(failed) or f"{probes} probes passed"
        )
        states.append(Sample(sample.started, sample.answered, observation))
    return states


@dataclass(frozen=True)
class Outage:
    """The first time the steady state was lost after the injection, as the pollers saw it."""

    started: float
    """Monotonic. For a fault that acts at once (a kill), when it took effect: the middle of the
    window it is known to lie in (see ``window``); otherwise when the first failed check was
    asked."""
    ended: float | None
    """Monotonic: when the answer of the first passing check after it arrived; None: not
    seen back while observed."""
    first_failure: str
    count: int
    """Separate outages seen while observed (a flapping service shows more than one)."""
    impact: float
    """Monotonic: when the first failed check was asked, or answered when it was asked before
    the injection."""
    window: float = 0.0
    """How wide the window of ``started`` was: after the injection began and the last passing
    answer, before the injection returned and the first failed check was asked."""

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else self.ended - self.started


def first_outage(
    samples: Sequence[Sample],
    injected: float,
    *,
    at_once: bool,
    injected_until: float | None = None,
) -> Outage | None:
    """The first outage seen in ``samples`` (steady states, see ``steady_states``) after the
    monotonic instant ``injected``; None when every one answered after it passed (then there
    was no outage: 0 s).

    ``at_once``: the fault takes effect as it is injected (kill, stop, pause), somewhere while
    its injection ran (``injected`` .. ``injected_until``: finding the processes to signal and
    seeing them gone take time), after the last passing answer and before the first failed
    check was asked; the outage starts in the middle of that window, not only when the poller
    next asked."""
    after = [s for s in samples if s.answered >= injected]
    failed = next((i for i, s in enumerate(after) if not s.observation.ok), None)
    if failed is None:
        return None
    first = after[failed]
    # a check in flight at the injection that failed saw the fault only when it answered
    impact = first.started if first.started >= injected else first.answered
    started, window = impact, 0.0
    if at_once:
        earliest = max([injected, *(s.answered for s in after[:failed] if s.observation.ok)])
        latest = impact
        if injected_until is not None and earliest <= injected_until < latest:
            latest = injected_until
        earliest = min(earliest, latest)
        started, window = (earliest + latest) / 2, latest - earliest
    back = next((s for s in after[failed:] if s.observation.ok), None)
    count = sum(
        1
        for i, s in enumerate(after)
        if not s.observation.ok and (i == 0 or after[i - 1].observation.ok)
    )
    return Outage(
        started=started,
        ended=None if back is None else back.answered,
        first_failure=first.observation.reason,
        count=count,
        impact=impact,
        window=window,
    )
