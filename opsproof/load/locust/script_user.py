"""The user class of config-only scenarios: each iteration sends one request chosen by weight,
or runs the environment's flow with its own captured variables; every answer is judged by the
flows' own expectations (``journeys/expect.py``).

The request path stays lean: the plan is validated once per worker, each step compiled once
(its body, its multipart form when no variable is in it, its expected statuses), and a step
that expects only a status is judged without building an answer object. A failed request is
marked with a ``RequestFailed`` whose kind (status mismatch, check failed, capture missed,
poll timeout, failure state) the breakdown counts; a request with no answer is left to
Locust, which hands the breakdown its connection error.
"""

import base64
import random
import ssl
import time
from bisect import bisect
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import gevent
import httpx
from locust import FastHttpUser, constant, task
from locust.contrib.fasthttp import FastHttpSession, ResponseContextManager
from pydantic import JsonValue
from urllib3.filepost import encode_multipart_formdata

from opsproof.config.flows import FlowExpectSpec
from opsproof.config.values import status_matches, status_text
from opsproof.errors import RequestFailed
from opsproof.journeys import expect
from opsproof.journeys.capture import Missed, captured
from opsproof.journeys.expect import Exchanged
from opsproof.journeys.fields import MISSING, field, parsed_json
from opsproof.journeys.variables import Variables
from opsproof.load.script import Script, ScriptStep
from opsproof.probes.exchange import Answer, quoted, same

_REDIRECTS = (301, 302, 303, 307, 308)
_WAITING = "waiting"
_NOTHING_EXPECTED = FlowExpectSpec().model_dump(exclude={"status"})


@dataclass(frozen=True)
class _Step:
    """A step compiled once per worker."""

    spec: ScriptStep
    session: tuple[str, float]
    """The service and timeout whose session sends it."""
    body: bytes | None
    multipart: tuple[bytes, str] | None
    """The encoded form and its content type, when no variable is in it."""
    follow: bool
    status_only: bool
    """Nothing but the status is expected and nothing is captured: no answer object needed."""
    headers: dict[str, str] | None
    """The step's headers over the script's, when no variable is in them."""


def _compile(step: ScriptStep, script: Script) -> _Step:
    expected = step.expect
    others = expected.model_dump(exclude={"status"})
    status_only = others == _NOTHING_EXPECTED and not step.capture
    multipart = None
    if (step.files or step.form) and "${" not in "".join(step.form.values()):
        multipart = _encoded(step, Variables())
    timeout = step.timeout or script.targets[step.service].timeout
    headers = _headers(step, script, Variables())
    fixed = "${" not in "".join((*script.headers.values(), *step.headers.values()))
    return _Step(
        spec=step,
        session=(step.service, timeout),
        body=None if step.body is None else base64.b64decode(step.body),
        multipart=multipart,
        follow=not any(status_matches(expected.status, code) for code in _REDIRECTS),
        status_only=status_only and step.poll is None,
        headers=headers if fixed else None,
    )


def _headers(spec: ScriptStep, script: Script, variables: Variables) -> dict[str, str]:
    """The step's headers over the script's shared ones, those with no value yet left out."""
    own = {name.lower() for name in spec.headers}
    shared = {
        name: value
        for name, value in script.headers.items()
        if name.lower() not in own and variables.ready(value)
    }
    return {name: variables.render(value) for name, value in (shared | spec.headers).items()}


def _encoded(step: ScriptStep, variables: Variables) -> tuple[bytes, str]:
    fields: list[tuple[str, Any]] = [
        (name, variables.render(value)) for name, value in step.form.items()
    ]
    fields += [
        (part.field, (part.filename, base64.b64decode(part.data), part.content_type))
        for part in step.files
    ]
    return encode_multipart_formdata(fields)


class OpsproofScriptUser(FastHttpUser):
    """Runs the plan's script; ``prepare`` sets it up once per worker, before any user."""

    script: ClassVar[Script | None] = None
    steps: ClassVar[list[_Step]] = []
    cumulative: ClassVar[list[int]] = []

    @classmethod
    def prepare(cls, script: Script) -> None:
        cls.script = script
        cls.steps = [_compile(step, script) for step in script.steps]
        total = 0
        cls.cumulative = [total := total + step.weight for step in script.steps]
        cls.wait_time = constant(script.sleep)

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        assert self.script is not None
        self.sessions: dict[tuple[str, float], FastHttpSession] = {}
        for step in self.steps:
            if step.session not in self.sessions:
                self.sessions[step.session] = self._session(*step.session)

    def _session(self, service: str, timeout: float) -> FastHttpSession:
        assert self.script is not None
        target = self.script.targets[service]
        if service == "" and timeout == target.timeout:
            return self.client  # the run's own service, pointed at by the worker
        factory = None
        if target.ca_pem:
            pem = target.ca_pem

            def factory(**_: object) -> ssl.SSLContext:
                return ssl.create_default_context(cadata=pem)

        return FastHttpSession(
            base_url=target.host, request_event=self.environment.events.request, user=self,
            insecure=False, ssl_context_factory=factory, network_timeout=timeout,
            connection_timeout=timeout, headers=dict(target.headers) or None,
        )  # fmt: skip

    @task
    def iteration(self) -> None:
        assert self.script is not None
        if self.script.flow is None:
            steps, cumulative = self.steps, self.cumulative
            pick = bisect(cumulative, random.random() * cumulative[-1]) if len(steps) > 1 else 0
            self._run(steps[pick], Variables(), {})
            return
        variables = Variables()
        earlier: dict[str, Exchanged] = {}
        for step in self.steps:
            if not self._run(step, variables, earlier):
                return  # a later step would lack what this one captures

    def _run(self, step: _Step, variables: Variables, earlier: dict[str, Exchanged]) -> bool:
        """Send (again while polling), judge, capture; whether the step passed."""
        spec, poll = step.spec, step.spec.poll
        began = time.monotonic()
        while True:
            response, latency, sent = self._send(step, variables)
            with response:
                if not response.status_code:
                    return False  # no answer: Locust reports its connection error
                if step.status_only:
                    return self._judge_status(response, spec)
                answer = _answer(response, latency)
                state = _poll_state(spec, answer, time.monotonic() - began, variables, earlier)
                if isinstance(state, str):  # still waiting
                    _passed(response)
                else:
                    ok = self._conclude(response, spec, answer, state, variables, earlier)
                    if ok:
                        earlier[spec.name] = Exchanged(sent, len(answer.body))
                    return ok
            assert poll is not None
            gevent.sleep(poll.interval)

    def _send(self, step: _Step, variables: Variables) -> tuple[ResponseContextManager, float, int]:
        """The answer, not yet judged (Locust reports it when its context exits), the seconds
        it took and the bytes of body sent."""
        assert self.script is not None
        spec = step.spec
        headers = step.headers
        if headers is None:
            headers = _headers(spec, self.script, variables)
        body = step.body
        json_body: JsonValue = None
        if spec.files or spec.form:
            body, content_type = step.multipart or _encoded(spec, variables)
            headers = {**headers, "Content-Type": content_type}
        elif spec.json_body is not None:
            json_body = variables.render_json(spec.json_body)
        session = self.sessions[step.session]
        began = time.perf_counter()
        response = session.request(
            spec.method, variables.render(spec.path), name=spec.name, data=cast(Any, body),
            json=json_body, headers=headers, allow_redirects=step.follow, catch_response=True,
        )  # fmt: skip
        return response, time.perf_counter() - began, len(body or b"")

    @staticmethod
    def _judge_status(response: ResponseContextManager, spec: ScriptStep) -> bool:
        if status_matches(spec.expect.status, response.status_code):
            _passed(response)
            return True
        expected = status_text(spec.expect.status)
        why = f"expected status {expected}, got {response.status_code}"
        _failed(response, RequestFailed("status mismatch", why))
        return False

    def _conclude(
        self,
        response: ResponseContextManager,
        spec: ScriptStep,
        answer: Answer,
        state: RequestFailed | None,
        variables: Variables,
        earlier: dict[str, Exchanged],
    ) -> bool:
        failure = state or _judged(answer, spec, variables, earlier)
        if failure is None:
            for name, capture in spec.capture.items():
                value = captured(answer, capture)
                if isinstance(value, Missed):
                    failure = RequestFailed("capture missed", f"capture {name}: {value.why}")
                    break
                variables.capture(name, value, capture.secret)
        if failure is None:
            _passed(response)
            return True
        masked = variables.redactor().text(str(failure))
        _failed(response, RequestFailed(failure.kind, masked))
        return False


def _passed(response: ResponseContextManager) -> None:
    response.success()  # type: ignore[no-untyped-call]


def _failed(response: ResponseContextManager, failure: RequestFailed) -> None:
    response.failure(failure)  # type: ignore[no-untyped-call]


def _answer(response: ResponseContextManager, latency: float) -> Answer:
    headers = httpx.Headers(list((response.headers or {}).items()))
    return Answer(response.status_code, headers, response.content or b"", latency)


def _judged(
    answer: Answer, spec: ScriptStep, variables: Variables, earlier: dict[str, Exchanged]
) -> RequestFailed | None:
    if not status_matches(spec.expect.status, answer.status):
        expected = status_text(spec.expect.status)
        why = f"expected status {expected}, got {answer.status} {answer.excerpt()}"
        return RequestFailed("status mismatch", why)
    problems = expect.failures(answer, spec.expect, variables, earlier)
    return RequestFailed("check failed", "; ".join(problems)) if problems else None


def _poll_state(
    spec: ScriptStep,
    answer: Answer,
    elapsed: float,
    variables: Variables,
    earlier: dict[str, Exchanged],
) -> RequestFailed | str | None:
    """None: judge this answer; ``_WAITING``: ask again; a failure: the poll's own."""
    poll = spec.poll
    if poll is None:
        return None
    if poll.json_path is None:
        done = _judged(answer, spec, variables, earlier) is None
        waiting_for = "expect to hold"
    else:
        document = parsed_json(answer.body)
        value = MISSING if document is MISSING else field(document, poll.json_path)
        seen = "no such field" if value is MISSING else quoted(value)
        if value is not MISSING and any(same(state, value) for state in poll.fail_on):
            return RequestFailed("failure state", f"{poll.json_path} reached failure state {seen}")
        done = value is not MISSING and any(same(state, value) for state in poll.until)
        waiting_for = f"{poll.json_path} in {poll.until} (still {seen})"
    if done:
        return None
    if elapsed + poll.interval > poll.timeout:
        return RequestFailed(
            "poll timeout", f"waited {elapsed:.2f} s of {poll.timeout:g} s for {waiting_for}"
        )
    return _WAITING
