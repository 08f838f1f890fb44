"""One expectation — a request or a flow — watched while the fault is in place: seen within
its window, then held.

Judged on unrounded monotonic times; figures are rounded only when they are written. (A
``hold: 0`` was once missed: the rounded time of the first sighting lay after the moment it was
compared with, the watch kept polling, and a later different answer failed a met expectation.)
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from opsproof.config.flows import FlowExpectSpec, FlowSpec, FlowStepSpec
from opsproof.config.models import ExpectationSpec, inline_flow
from opsproof.config.values import status_text
from opsproof.probes.result import Observation

ERROR_STATUS = 400
"""An expected answer at or above this status describes a degraded service, not a healthy one."""


@dataclass
class Watch:
    """What one expectation's poller has seen; times are seconds after the injection."""

    expectation: ExpectationSpec
    flow: FlowSpec
    """What is sent and judged: the expectation's one request is a flow of one step."""
    seen_s: float | None = None
    """When the expected answer first showed (unrounded)."""
    problem: str | None = None
    done: bool = False
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        """A step's expected answer is an error: seeing it is an observed degradation."""
        return error_step(self.flow) is not None


def watch(expectation: ExpectationSpec, index: int, flows: Sequence[FlowSpec] = ()) -> Watch:
    return Watch(expectation, expected_flow(expectation, index, flows))


def expected_flow(expectation: ExpectationSpec, index: int, flows: Sequence[FlowSpec]) -> FlowSpec:
    """The flow an expectation sends: its own, the environment's flow it names (``flows``),
    or its one request as a step named after it."""
    name = f"expectation {index + 1}"
    if expectation.flow is not None and expectation.flow.named:
        return next(f for f in flows if f.name == expectation.flow.name)
    if expectation.flow is not None:
        return inline_flow(expectation.flow, name)
    assert expectation.request is not None and expectation.service is not None
    request = expectation.request
    step = FlowStepSpec(
        name=f"{request.method} {request.path}",
        request=request,
        expect=expectation.expect or FlowExpectSpec(),
    )
    service = expectation.service
    return FlowSpec.model_construct(name=name, service=service, headers={}, steps=[step])


def error_step(flow: FlowSpec) -> FlowStepSpec | None:
    """The first step whose every allowed answer is an error status (503, [502, 503], 5xx)."""
    for step in flow.steps:
        status = step.expect.status
        if isinstance(status, str) and int(status[0]) * 100 >= ERROR_STATUS:
            return step
        if isinstance(status, tuple) and status and min(status) >= ERROR_STATUS:
            return step
    return None


def update(watch: Watch, observation: Observation, elapsed: float) -> None:
    """Judge one answer that arrived ``elapsed`` seconds after the injection."""
    expectation = watch.expectation
    if observation.elapsed_s:  # the whole flow's, from its first request to its last answer
        watch.latencies_ms.append(observation.elapsed_s * 1000)
    said = describe(expectation, watch.flow)
    failed = _failed(observation, expectation.flow is None)
    if observation.ok and watch.seen_s is None:
        watch.seen_s = elapsed
        if elapsed > expectation.within:
            watch.problem = f"{said}: showed only after {elapsed:.2f} s"
            watch.done = True
    elif not observation.ok and watch.seen_s is not None:
        held = elapsed - watch.seen_s
        watch.problem = f"{said}: stopped holding after {held:.2f} s: {failed}"
        watch.done = True
    elif not observation.ok and elapsed > expectation.within:
        watch.problem = f"{said}: not seen within {expectation.within:g} s; last: {failed}"
        watch.done = True
    if watch.seen_s is not None and elapsed - watch.seen_s >= expectation.hold:
        watch.done = True


_ONE_REQUEST = re.compile(
    r"^(?:flow '[^\n]*?': )?step 1/1 '[^\n]*?' failed: (?P<line>.*?)"
    r"(?:; captured: nothing captured)?$"
)
"""A one-step flow's failure, as the flow words it; a single request needs only its line."""


def _failed(observation: Observation, single: bool) -> str:
    """The failed step's line of a flow's reason: the step, its request, expected vs actual
    (a single request: the request, expected vs actual)."""
    line = observation.reason.splitlines()[-1]
    if single and (match := _ONE_REQUEST.match(line)):
        return match["line"]
    return line


def describe(expectation: ExpectationSpec, flow: FlowSpec) -> str:
    if expectation.flow is None:
        words = [_answers(flow.steps[0], flow.service)]
    else:
        steps = "; ".join(_answers(step, step.service or flow.service) for step in flow.steps)
        words = [f"flow {flow.name!r} ({steps})"]
    held = f", held {expectation.hold:g} s" if expectation.hold else ""
    words.append(f"(seen <= {expectation.within:g} s after injection{held})")
    return " ".join(words)


def _answers(step: FlowStepSpec, service: str) -> str:
    request, expect = step.request, step.expect
    words = [f"{request.method} {request.path} on {service} answers {status_text(expect.status)}"]
    if expect.json_fields:
        words.append("with " + ", ".join(f"{k}={v}" for k, v in expect.json_fields.items()))
    if expect.max_latency is not None:
        words.append(f"in <= {expect.max_latency * 1000:g} ms")
    return " ".join(words)
