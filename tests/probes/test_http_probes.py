"""HTTP probes against a real HTTP app: health endpoints and smoke steps, healthy and not."""

import time
from pathlib import Path
from typing import Any

import pytest

from opsproof.config.models import HttpCheck, HttpService, SmokeStep
from opsproof.errors import ConfigError
from opsproof.probes.http import check_endpoint, http_client, run_smoke_step


def service(url: str, **fields: Any) -> HttpService:
    return HttpService.model_validate({"kind": "http", "url": url, **fields})


def step(path: str, method: str = "GET", **expect: Any) -> SmokeStep:
    return SmokeStep.model_validate(
        {
            "name": path,
            "service": "api",
            "request": {"method": method, "path": path},
            "expect": expect,
        }
    )


def test_healthy_endpoint_passes_with_latency_figure(http_app: Any) -> None:
    check = HttpCheck(path="/health", expect_json={"status": "ok", "checks.redis": "up"})

    seen = check_endpoint(service(http_app.url), check)

    assert seen.ok, seen.reason
    assert seen.target == f"GET {http_app.url}/health"
    assert seen.figures["latency_ms"].unit == "ms"
    assert seen.figures["status"].value == 200


def test_wrong_status_says_expected_and_actual_with_the_body(http_app: Any) -> None:
    seen = check_endpoint(service(http_app.url), HttpCheck(path="/broken"))

    assert not seen.ok
    assert seen.reason == (
        f'GET {http_app.url}/broken: expected status 200, got 503 {{"error": "redis unavailable"}}'
    )


def test_health_json_field_mismatch_is_named(http_app: Any) -> None:
    check = HttpCheck(path="/health", expect_json={"checks.redis": "down", "checks.db": "up"})

    seen = check_endpoint(service(http_app.url), check)

    assert not seen.ok
    assert 'expected checks.redis = "down", got "up"' in seen.reason
    assert 'expected checks.db = "up", got nothing (no such field)' in seen.reason


def test_smoke_step_meeting_every_expectation_passes(http_app: Any) -> None:
    smoke = step(
        "/items",
        content_type="application/json",
        json={"data.items.0.id": 7, "data.items.0.ok": True},
        body_contains='"items"',
        max_latency="2s",
    )

    seen = run_smoke_step(service(http_app.url), smoke)

    assert seen.ok, seen.reason
    assert seen.figures["latency_ms"].target == "<= 2000"


def test_smoke_step_lists_every_failed_expectation(http_app: Any) -> None:
    smoke = step(
        "/items",
        status=201,
        content_type="text/html",
        json={"data.items.0.id": 8, "data.items.0.ok": 1},
        body_contains="missing-text",
    )

    seen = run_smoke_step(service(http_app.url), smoke)

    assert not seen.ok
    assert seen.reason.startswith(f"GET {http_app.url}/items: expected status 201, got 200 ")
    assert "expected content type text/html, got application/json" in seen.reason
    assert "expected data.items.0.id = 8, got 7" in seen.reason
    assert "expected data.items.0.ok = 1, got true" in seen.reason
    assert "expected the body to contain 'missing-text'" in seen.reason


def test_png_signature_is_checked_on_the_bytes(http_app: Any) -> None:
    svc = service(http_app.url)

    png = run_smoke_step(svc, step("/image.png", signature="png", content_type="image/png"))
    html = run_smoke_step(svc, step("/page", signature="png"))

    assert png.ok, png.reason
    assert not html.ok
    assert "expected a png body, got bytes b'<h1>hell'" in html.reason


def test_latency_budget_exceeded_fails_with_the_measure(http_app: Any) -> None:
    seen = run_smoke_step(service(http_app.url), step("/slow", max_latency="100ms"))

    assert not seen.ok
    assert "expected latency <= 100 ms, took" in seen.reason
    assert seen.figures["latency_ms"].value >= 300  # type: ignore[operator]


def test_request_body_and_service_headers_are_sent(http_app: Any) -> None:
    svc = service(http_app.url, headers={"X-Token": "s3cret"})
    post = SmokeStep.model_validate(
        {
            "name": "echo",
            "service": "api",
            "request": {"method": "POST", "path": "/echo", "json": {"n": 1}},
            "expect": {"status": 201, "json": {"received.n": 1}},
        }
    )

    with http_client(svc) as client:
        echoed = run_smoke_step(svc, post, client)
        whoami = run_smoke_step(svc, step("/whoami", json={"token": "s3cret"}), client)

    assert echoed.ok, echoed.reason
    assert whoami.ok, whoami.reason


def test_unreachable_port_is_a_failed_observation(unused_port: int) -> None:
    seen = run_smoke_step(service(f"http://127.0.0.1:{unused_port}"), step("/health"))

    assert not seen.ok
    assert seen.reason == f"GET http://127.0.0.1:{unused_port}/health: connection refused"


def test_server_that_never_answers_fails_after_the_timeout(hang_server: Any) -> None:
    svc = service(f"http://127.0.0.1:{hang_server.port}", timeout="500ms")

    start = time.monotonic()
    seen = check_endpoint(svc, HttpCheck(timeout=0.5))

    assert time.monotonic() - start < 1.5
    assert not seen.ok
    assert seen.reason.endswith("/health: no answer within 0.5s")


def test_https_trusts_the_service_ca_file(tls_stack: Any) -> None:
    trusted = service(tls_stack.good.url, ca_file=tls_stack.ca_file)
    untrusted = service(tls_stack.good.url)

    assert check_endpoint(trusted, HttpCheck()).ok
    refused = check_endpoint(untrusted, HttpCheck())
    assert not refused.ok
    assert "TLS verification failed: unable to get local issuer certificate" in refused.reason


def test_unreadable_ca_file_is_a_config_error(tmp_path: Path) -> None:
    svc = service("https://127.0.0.1:1", ca_file=tmp_path / "missing.pem")

    with pytest.raises(ConfigError, match=r"ca_file .*missing\.pem"):
        check_endpoint(svc, HttpCheck())
