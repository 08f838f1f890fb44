"""One generated case on the wire, through the probes' bounded client — never Schemathesis's
own transport, whose reads have no overall deadline or size cap.

Schemathesis serializes the case (path, query, headers, cookies, body for its media type) into
``requests`` arguments; ``requests`` prepares the exact bytes; ``fetch`` sends them within one
deadline from connect to the body's last byte and the service's ``max_body``, redirects not
followed (a 3xx is the answer judged). The answer goes back to Schemathesis as its
``Response``, and a ``curl`` line reproduces the request with every secret masked.
"""

import http.client
import shlex
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, TypeAlias

import httpx
import requests
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis.core.curl import generate
from schemathesis.generation.case import Case

from opsproof.config.models import HttpService
from opsproof.contract.credentials import Credentials
from opsproof.contract.operations import Operation
from opsproof.contract.pacing import Pacer, Window
from opsproof.errors import FetchError
from opsproof.probes.exchange import Answer, fetch, http_client
from opsproof.support.redact import Redactor
from opsproof.support.text import one_line

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
"""Methods a request of which may be sent again when the connection failed before an answer."""
REFRESH_AFTER = 5.0
"""Seconds between two token refreshes, at least."""
MIN_TIMEOUT = 0.05
"""Less time than this left in the budget: the request is not sent at all."""
ApiCase: TypeAlias = Case[Any]
"""A case Schemathesis generated for one operation."""
USER_AGENT = f"opsproof-api-contract (schemathesis/{schemathesis.__version__})"
"""What the service's logs see: the probe, and the library that generated the request."""
_REQUEST_KEYS = ("method", "url", "headers", "params", "cookies", "json", "data", "files")


@dataclass(frozen=True)
class Sent:
    """A complete answer."""

    answer: Answer
    response: schemathesis.Response
    curl: str


@dataclass(frozen=True)
class NoAnswer:
    """Sent, and no complete answer within the deadline and limits: the service's failure."""

    why: str
    timed_out: bool
    curl: str


@dataclass(frozen=True)
class NotSent:
    """Not sent: no time left, or a generated request no HTTP client can send as it is."""

    why: str
    budget_spent: bool = False


class Wire:
    """Sends cases to one service: with its headers and the probe's credentials, or with no
    credential at all (no service header, no auth header, no declared credential).

    An authenticated request answered 401 gets fresh credentials from ``refresh`` (the token
    steps run again) and is sent once more — at most one refresh every ``REFRESH_AFTER``
    seconds, so a 401 a fresh token does not cure never turns every request into a login."""

    def __init__(
        self,
        service: HttpService,
        credentials: Credentials,
        secrets: frozenset[str],
        pacer: Pacer,
        refresh: Callable[[], Credentials] | None = None,
    ) -> None:
        self._service = service
        self._base_url = service.url.rstrip("/")
        self._secrets = secrets
        self._pacer = pacer
        self._refresh = refresh
        self._refreshed_at = time.monotonic()
        self._client = http_client(service.model_copy(update={"headers": {}}))
        self._use(credentials)

    def _use(self, credentials: Credentials) -> None:
        self._credentials = credentials
        self._headers = {**self._service.headers, **credentials.headers}
        self._redactor = Redactor(self._secrets | credentials.secrets)

    def close(self) -> None:
        self._client.close()

    def send(
        self, case: ApiCase, operation: Operation, window: Window, *, authenticated: bool = True
    ) -> Sent | NoAnswer | NotSent:
        outcome = self._send(case, operation, window, authenticated)
        if isinstance(outcome, NoAnswer) and not outcome.timed_out and case.method in IDEMPOTENT:
            # a kept-alive connection the service had closed (after a 500, say): once more, on
            # a new one; a service that really drops requests drops this one too
            outcome = self._send(case, operation, window, authenticated)
        stale = isinstance(outcome, Sent) and outcome.answer.status == 401
        if authenticated and stale and self._refreshed():
            outcome = self._send(case, operation, window, authenticated)
        return outcome

    def _refreshed(self) -> bool:
        """New credentials are in use."""
        now = time.monotonic()
        if self._refresh is None or now - self._refreshed_at < REFRESH_AFTER:
            return False
        self._refreshed_at = now
        fresh = self._refresh()
        if fresh.problem or fresh.headers == self._credentials.headers:
            return False
        self._use(fresh)
        return True

    def _send(
        self, case: ApiCase, operation: Operation, window: Window, authenticated: bool
    ) -> Sent | NoAnswer | NotSent:
        try:
            prepared = self._prepare(case, operation, authenticated)
        except (ValueError, TypeError, requests.RequestException) as exc:
            return NotSent(f"cannot be sent as generated: {one_line(str(exc), 120)}")
        if window.left() < MIN_TIMEOUT or not self._pacer.wait(window.end - MIN_TIMEOUT):
            return NotSent("budget spent", budget_spent=True)
        timeout = min(self._service.timeout, window.left())
        curl = self._curl(case, prepared)
        body = _bytes(prepared.body)
        try:
            answer = fetch(
                self._client, str(prepared.method), str(prepared.url), timeout,
                headers=_text_headers(prepared), content=body, follow_redirects=False,
            )  # fmt: skip
        except FetchError as exc:
            cause = exc.__cause__
            if isinstance(cause, httpx.LocalProtocolError) or str(exc).startswith("request can"):
                return NotSent(f"cannot be sent as generated: {exc}")
            # the deadline: httpx's timeout, or fetch's own between decoded pieces of a body
            timed_out = isinstance(cause, httpx.TimeoutException) or " within " in str(exc)
            if timed_out and timeout < self._service.timeout:  # cut short by the budget's end
                return NotSent("budget spent", budget_spent=True)
            return NoAnswer(str(exc), timed_out, curl)
        return Sent(answer, _response(answer, prepared), curl)

    def _prepare(
        self, case: ApiCase, operation: Operation, authenticated: bool
    ) -> requests.PreparedRequest:
        if not authenticated:  # from the case itself, so its example shows what was sent
            containers = {"header": case.headers, "query": case.query, "cookie": case.cookies}
            for credential in operation.credentials:
                container = containers[credential.location]
                if isinstance(container, MutableMapping):
                    container.pop(credential.name, None)
        arguments = case.as_transport_kwargs(base_url=self._base_url)
        headers = CaseInsensitiveDict(arguments.get("headers") or {})
        headers["User-Agent"] = USER_AGENT
        if authenticated:
            headers.update(self._headers)
        arguments["headers"] = headers
        request = requests.Request(**{k: arguments[k] for k in _REQUEST_KEYS if k in arguments})
        if authenticated and arguments.get("auth") is not None:
            request.auth = arguments["auth"]
        return request.prepare()

    def _curl(self, case: ApiCase, prepared: requests.PreparedRequest) -> str:
        command = generate(
            method=str(prepared.method),
            url=str(prepared.url),
            body=prepared.body,
            verify=True,
            headers=dict(_text_headers(prepared)),
            known_generated_headers=dict(case.headers or {}),
        ).command
        if self._service.ca_file is not None:
            command = command.replace(
                "curl ", f"curl --cacert {shlex.quote(str(self._service.ca_file))} ", 1
            )
        return self._redactor.text(command)


def _response(answer: Answer, prepared: requests.PreparedRequest) -> schemathesis.Response:
    headers: dict[str, list[str]] = {}
    for name, value in answer.headers.multi_items():
        headers.setdefault(name.lower(), []).append(value)
    return schemathesis.Response(
        status_code=answer.status,
        headers=headers,
        content=answer.body,
        request=prepared,
        elapsed=answer.latency_s,
        verify=True,
        message=http.client.responses.get(answer.status, ""),
    )


def _bytes(body: object) -> bytes | None:
    """A prepared body as bytes (``requests`` leaves text as text)."""
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    raise TypeError(f"a streamed body ({type(body).__name__}) cannot be sent within bounds")


def _text_headers(prepared: requests.PreparedRequest) -> dict[str, str]:
    return {
        name: value.decode("latin-1") if isinstance(value, bytes) else value
        for name, value in prepared.headers.items()
    }
