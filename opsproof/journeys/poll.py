"""Polling a step: the same request again every interval until a condition holds.

With ``json``, the watched field ending in one of ``until`` ends polling (then the step's
``expect`` judges that last answer, so "done" vs "rejected" is told apart), and one of
``fail_on`` fails at once. Without it, polling ends when the whole ``expect`` holds. A request
that gets no answer fails the step at once: polling waits for a state, not for a dead service.
"""

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opsproof.config.flows import PollSpec
from opsproof.journeys.fields import MISSING, field, parsed_json
from opsproof.probes.exchange import Answer, quoted, same


@dataclass(frozen=True)
class Polled:
    """How polling ended: the last answer, and why it was not a success if it was not."""

    answer: Answer
    requests: int
    elapsed_s: float
    """From the first request's start to the last answer: the time to completion."""
    failure: str | None = None


def _state(answer: Answer, path: str) -> object:
    document = parsed_json(answer.body)
    return MISSING if document is MISSING else field(document, path)


def _among(value: object, values: Sequence[object]) -> bool:
    return value is not MISSING and any(same(candidate, value) for candidate in values)


def _seen(value: object) -> str:
    return "no such field" if value is MISSING else quoted(value)


def poll(send: Callable[[], Answer], spec: PollSpec, met: Callable[[Answer], bool]) -> Polled:
    """Send until done; ``send`` raises :class:`~opsproof.errors.FetchError` for a
    request without an answer, ``met`` says whether an answer meets the step's ``expect``."""
    start = time.monotonic()
    requests = 0
    while True:
        answer = send()
        requests += 1
        elapsed = time.monotonic() - start
        if spec.json_path is None:
            if met(answer):
                return Polled(answer, requests, elapsed)
            waiting_for = "expect to hold"
            seen = f"last answer {answer.status} {answer.excerpt()}"
        else:
            value = _state(answer, spec.json_path)
            if _among(value, spec.fail_on):
                return Polled(answer, requests, elapsed, (
                    f"{spec.json_path} reached failure state {_seen(value)} "
                    f"(fail_on: {json.dumps(spec.fail_on)}) after {elapsed:.2f} s, "
                    f"{requests} requests; answer {answer.status} {answer.excerpt()}"
                ))  # fmt: skip
            if _among(value, spec.until):
                return Polled(answer, requests, elapsed)
            waiting_for = f"{spec.json_path} in {json.dumps(spec.until)}"
            seen = f"still {_seen(value)}"
        if elapsed + spec.interval > spec.timeout:
            return Polled(answer, requests, elapsed, (
                f"poll timeout: waited {elapsed:.2f} s of {spec.timeout:g} s for {waiting_for}, "
                f"{requests} requests; {seen}"
            ))  # fmt: skip
        time.sleep(spec.interval)
