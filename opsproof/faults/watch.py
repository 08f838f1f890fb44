"""One expectation watched while the fault is in place: seen within its window, then held.

Judged on unrounded monotonic times; figures are rounded only when they are written. (A
``hold: 0`` was once missed: the rounded time of the first sighting lay after the moment it was
compared with, the watch kept polling, and a later different answer failed a met expectation.)
"""

from dataclasses import dataclass, field

from opsproof.config.models import ExpectationSpec, SmokeStep
from opsproof.probes.result import Observation

ERROR_STATUS = 400
"""An expected answer at or above this status describes a degraded service, not a healthy one."""


@dataclass
class Watch:
    """What one expectation's poller has seen; times are seconds after the injection."""

    expectation: ExpectationSpec
    step: SmokeStep
    seen_s: float | None = None
    """When the expected answer first showed (unrounded)."""
    problem: str | None = None
    done: bool = False
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        """The expected answer is an error: seeing it is an observed degradation."""
        return self.expectation.expect.status >= ERROR_STATUS


def watch(expectation: ExpectationSpec, index: int) -> Watch:
    step = SmokeStep(
        name=f"expectation {index + 1}",
        service=expectation.service,
        request=expectation.request,
        expect=expectation.expect,
    )
    return Watch(expectation, step)


def update(watch: Watch, observation: Observation, elapsed: float) -> None:
    """Judge one answer that arrived ``elapsed`` seconds after the injection."""
    expectation = watch.expectation
    latency = observation.figures.get("latency_ms")
    if latency is not None and isinstance(latency.value, float | int):
        watch.latencies_ms.append(float(latency.value))
    if observation.ok and watch.seen_s is None:
        watch.seen_s = elapsed
        if elapsed > expectation.within:
            watch.problem = f"{describe(expectation)}: showed only after {elapsed:.2f} s"
            watch.done = True
    elif not observation.ok and watch.seen_s is not None:
        held = elapsed - watch.seen_s
        watch.problem = (
            f"{describe(expectation)}: stopped holding after {held:.2f} s: {observation.reason}"
        )
        watch.done = True
    elif not observation.ok and elapsed > expectation.within:
        watch.problem = (
            f"{describe(expectation)}: not seen within {expectation.within:g} s; "
            f"last: {observation.reason}"
        )
        watch.done = True
    if watch.seen_s is not None and elapsed - watch.seen_s >= expectation.hold:
        watch.done = True


def describe(expectation: ExpectationSpec) -> str:
    request, expect = expectation.request, expectation.expect
    words = [f"{request.method} {request.path} on {expectation.service} answers {expect.status}"]
    if expect.json_fields:
        words.append("with " + ", ".join(f"{k}={v}" for k, v in expect.json_fields.items()))
    if expect.max_latency is not None:
        words.append(f"in <= {expect.max_latency * 1000:g} ms")
    held = f", held {expectation.hold:g} s" if expectation.hold else ""
    words.append(f"(seen <= {expectation.within:g} s after injection{held})")
    return " ".join(words)
