"""HTTP probes: a health endpoint, and a declarative smoke step with every expectation judged."""

import json
from collections.abc import Mapping

import httpx
from pydantic import JsonValue

from opsproof.config.models import HttpCheck, HttpService, SmokeExpect, SmokeStep
from opsproof.errors import FetchError
from opsproof.probes._body import has_signature, json_mismatches, sniff
from opsproof.probes._fetch import Answer, fetch_from, http_client
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed

__all__ = ["check_endpoint", "endpoint_url", "http_client", "run_smoke_step"]


def endpoint_url(service: HttpService, path: str) -> str:
    """The service URL (which may carry a base path) joined with a request path."""
    return service.url.rstrip("/") + path


@timed
def check_endpoint(
    service: HttpService, check: HttpCheck, client: httpx.Client | None = None
) -> Observation:
    """GET a health endpoint: expected status and JSON fields within ``check.timeout``
    (one deadline for the whole answer) and the service's read limits.

    Pass a ``client`` from :func:`http_client` to reuse connections across probes.
    """
    url = endpoint_url(service, check.path)
    target = f"GET {url}"
    try:
        answer = fetch_from(
            service, client, "GET", url, check.timeout,
            follow_redirects=not _is_redirect(check.expect_status),
        )  # fmt: skip
    except FetchError as exc:
        return Observation(False, target, f"{target}: {exc}")
    failures = _status_failure(answer, check.expect_status)
    if check.expect_json:
        failures += _json_failures(answer, check.expect_json)
    figures = {
        "status": Figure(answer.status, target=f"== {check.expect_status}"),
        "latency_ms": Figure(round(answer.latency_s * 1000, 1), "ms"),
        **_redirect_figure(answer),
    }
    if failures:
        return Observation(False, target, f"{target}: " + "; ".join(failures), figures)
    reason = f"{target}: {answer.status} as expected{answer.followed()}"
    return Observation(True, target, reason, figures)


@timed
def run_smoke_step(
    service: HttpService, step: SmokeStep, client: httpx.Client | None = None
) -> Observation:
    """Send the step's request and judge every expectation; the reason lists each one failed."""
    request, expect = step.request, step.expect
    url = endpoint_url(service, request.path)
    target = f"{request.method} {url}"
    try:
        answer = fetch_from(
            service,
            client,
            request.method,
            url,
            service.timeout,
            headers=request.headers,
            json=request.json_body,
            content=None if request.body is None else request.body.encode(),
            follow_redirects=not _is_redirect(expect.status),
        )
    except FetchError as exc:
        return Observation(False, target, f"{target}: {exc}")
    failures = _expectation_failures(answer, expect)
    latency_ms = round(answer.latency_s * 1000, 1)
    budget = None if expect.max_latency is None else f"<= {expect.max_latency * 1000:g}"
    figures = {
        "status": Figure(answer.status, target=f"== {expect.status}"),
        "latency_ms": Figure(latency_ms, "ms", budget),
        **_redirect_figure(answer),
    }
    if failures:
        return Observation(False, target, f"{target}: " + "; ".join(failures), figures)
    reason = f"{target}: every expectation met in {latency_ms:g} ms{answer.followed()}"
    return Observation(True, target, reason, figures)


def _is_redirect(status: int) -> bool:
    """A check that expects a redirect judges the redirect itself, so it is not followed."""
    return 300 <= status < 400


def _redirect_figure(answer: Answer) -> dict[str, Figure]:
    return {"redirects": Figure(len(answer.redirects))} if answer.redirects else {}


def _status_failure(answer: Answer, expected: int) -> list[str]:
    if answer.status == expected:
        return []
    return [f"expected status {expected}, got {answer.status} {answer.excerpt()}"]


def _json_failures(answer: Answer, expected: Mapping[str, JsonValue]) -> list[str]:
    try:
        document = json.loads(answer.body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        return [f"expected a JSON body, got {answer.excerpt()}"]
    return json_mismatches(document, expected)


def _expectation_failures(answer: Answer, expect: SmokeExpect) -> list[str]:
    failures = _status_failure(answer, expect.status)
    if expect.content_type is not None:
        wanted = expect.content_type.partition(";")[0].strip().lower()
        if answer.media_type != wanted:
            failures.append(f"expected content type {wanted}, got {answer.media_type or 'none'}")
    if expect.json_fields:
        failures += _json_failures(answer, expect.json_fields)
    if expect.signature is not None and not has_signature(answer.body, expect.signature):
        failures.append(f"expected a {expect.signature} body, got {sniff(answer.body)}")
    if expect.body_contains is not None and expect.body_contains.encode() not in answer.body:
        failures.append(
            f"expected the body to contain {expect.body_contains!r}, got {answer.excerpt()}"
        )
    if expect.max_latency is not None and answer.latency_s > expect.max_latency:
        failures.append(
            f"expected latency <= {expect.max_latency * 1000:g} ms, "
            f"took {answer.latency_s * 1000:.0f} ms"
        )
    return failures
