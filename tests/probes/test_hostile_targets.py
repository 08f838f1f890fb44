"""Every probe family against a hostile peer: each fails within its deadline + 0.5 s, with a
printable reason naming what was exceeded, and never reads more than its cap."""

import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from opsproof.config.models import (
    AlertmanagerConfig,
    Environment,
    HttpCheck,
    HttpService,
    MetricsCheck,
    PrometheusService,
    SmokeStep,
)
from opsproof.errors import ApiError
from opsproof.faults.steady import steady_state
from opsproof.probes import alertmanager, metrics, prometheus, tls
from opsproof.probes.http import check_endpoint, run_smoke_step
from opsproof.probes.monitoring_api import get_json
from opsproof.probes.result import Observation

DEADLINE = 1.0
SLACK = 0.5


def service(url: str, **fields: Any) -> HttpService:
    return HttpService.model_validate({"kind": "http", "url": url, "timeout": DEADLINE, **fields})


def health(path: str, status: int = 200) -> HttpCheck:
    return HttpCheck(path=path, timeout=DEADLINE, expect_status=status)


def step(path: str, **expect: Any) -> SmokeStep:
    return SmokeStep.model_validate(
        {"name": path, "service": "api", "request": {"path": path}, "expect": expect}
    )


def bounded(probe: Callable[[], Observation]) -> Observation:
    """The probe's observation, asserted failed, in time and printable."""
    start = time.monotonic()
    seen = probe()
    elapsed = time.monotonic() - start
    assert not seen.ok, seen.reason
    assert elapsed < DEADLINE + SLACK, f"{elapsed:.2f}s: {seen.reason}"
    assert seen.reason.isprintable(), repr(seen.reason)
    return seen


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/trickle-headers", "headers not complete within 1s ("),
        ("/trickle-body", "body not complete within 1s ("),
        ("/lying-length", "body not complete within 1s"),
        ("/huge", "body: > 4 MiB allowed (max_body)"),
        ("/huge-declared", "body: 2 GiB declared (Content-Length) > 4 MiB allowed (max_body)"),
        ("/gzip-bomb", "body: > 4 MiB allowed (max_body) once gzip-decoded, from "),
        ("/short-close", "body incomplete: peer closed connection without sending complete"),
        ("/header-flood", "headers: 10,000 > 100 allowed"),
        ("/header-huge", "headers: more than 100 KiB allowed (status line and headers)"),
        (
            "/redirect-loop",
            "redirect loop: /redirect-loop → /redirect-loop/b → /redirect-loop (2 redirects)",
        ),
        ("/redirect-chain", "redirects: more than 5 allowed: /redirect-chain → /redirect-chain/1"),
    ],
)
def test_health_check_fails_in_time_naming_what_was_exceeded(
    hostile: Any, path: str, says: str
) -> None:
    seen = bounded(lambda: check_endpoint(service(hostile.url), health(path)))

    assert seen.reason.startswith(f"GET {hostile.url}{path}: {says}")


def test_bomb_stops_after_a_few_kib_on_the_wire(hostile: Any) -> None:
    seen = bounded(lambda: check_endpoint(service(hostile.url), health("/gzip-bomb")))

    wire = seen.reason.rpartition("from ")[2]
    assert wire.endswith("KiB on the wire"), seen.reason
    assert float(wire.split()[0]) < 64


def test_a_raised_cap_is_the_new_limit(hostile: Any) -> None:
    raised = service(hostile.url, max_body="16MiB")

    huge = bounded(lambda: check_endpoint(raised, health("/huge")))
    bomb = bounded(lambda: check_endpoint(raised, health("/gzip-bomb")))

    assert "body: > 16 MiB allowed (max_body)" in huge.reason
    assert "body: > 16 MiB allowed (max_body) once gzip-decoded" in bomb.reason


def test_control_bytes_are_escaped_in_the_quote(hostile: Any) -> None:
    text = bounded(lambda: check_endpoint(service(hostile.url), health("/text-control")))
    json_step = bounded(
        lambda: run_smoke_step(service(hostile.url), step("/json-control", json={"status": "ok"}))
    )

    assert "expected status 200, got 503 \\x00\\x1b[2J\\x1b[31mALERT\\x07 \\u202eevil" in (
        text.reason
    )
    assert 'expected a JSON body, got {"status": "\\x00\\x1b[2J' in json_step.reason
    assert len(text.reason) < 400


def test_json_nested_beyond_the_stack_is_not_json(hostile: Any) -> None:
    seen = bounded(
        lambda: run_smoke_step(service(hostile.url), step("/json-deep", json={"status": "ok"}))
    )

    assert "expected a JSON body, got [[[[" in seen.reason


def test_redirect_to_another_origin_is_reported_not_followed(hostile: Any) -> None:
    seen = bounded(lambda: check_endpoint(service(hostile.url), health("/redirect-elsewhere")))

    assert seen.reason.endswith(
        f"expected status 200, got 302 redirect to http://127.0.0.2:{hostile.port}/ok "
        "(another origin: not followed)"
    )


def test_same_origin_redirect_is_followed_and_reported(hostile: Any) -> None:
    seen = check_endpoint(
        service(hostile.url), HttpCheck(path="/moved", expect_json={"status": "ok"})
    )

    assert seen.ok, seen.reason
    assert seen.reason.endswith("200 as expected after 1 redirect (→ /ok)")
    assert seen.figures["redirects"].value == 1


def test_a_check_expecting_a_redirect_judges_the_redirect_itself(hostile: Any) -> None:
    seen = check_endpoint(service(hostile.url), health("/redirect-loop", status=302))

    assert seen.ok, seen.reason


@pytest.mark.parametrize("path", ["/gzip-ok", "/deflate-raw-ok"])
def test_compressed_answers_are_decoded(hostile: Any, path: str) -> None:
    seen = check_endpoint(service(hostile.url), HttpCheck(path=path, expect_json={"status": "ok"}))

    assert seen.ok, seen.reason


@pytest.mark.parametrize("kind", ["silent", "trickling"])
def test_tls_that_never_handshakes_fails_every_tls_probe_in_time(
    kind: str, silent_tls: Any, trickling_tls: Any
) -> None:
    peer = silent_tls if kind == "silent" else trickling_tls
    svc = service(peer.url, tls={})

    for probe in (tls.days_to_expiry, tls.hostname_matches, tls.chain_valid):
        seen = bounded(lambda probe=probe: probe(svc))  # type: ignore[misc]
        assert seen.reason == f"{peer.url}: TLS handshake not complete within 1s", seen.reason
    health_check = bounded(lambda: check_endpoint(svc, health("/health")))
    assert health_check.reason.endswith("/health: TLS handshake not complete within 1s")


def test_metrics_probe_is_bounded(hostile: Any) -> None:
    bomb = bounded(
        lambda: metrics.metrics_exposed(
            service(hostile.url), MetricsCheck(path="/gzip-bomb", names=["up"])
        )
    )
    trickle = bounded(
        lambda: metrics.metrics_exposed(
            service(hostile.url), MetricsCheck(path="/trickle-headers", names=["up"])
        )
    )

    assert "body: > 4 MiB allowed (max_body) once gzip-decoded" in bomb.reason
    assert "headers not complete within 1s" in trickle.reason


@pytest.mark.parametrize(
    ("base", "says"),
    [
        ("/huge", "body: > 4 MiB allowed (max_body)"),
        ("/trickle-headers", "headers not complete within 1s"),
        ("/header-flood", "headers: 10,000 > 100 allowed"),
        ("/json-control", "expected status 200 with a success answer, got 200 {"),
    ],
)
def test_prometheus_probes_are_bounded(hostile: Any, base: str, says: str) -> None:
    server = PrometheusService.model_validate(
        {"kind": "prometheus", "url": hostile.url + base, "timeout": DEADLINE}
    )

    for probe in (prometheus.targets_up, prometheus.no_critical_alerts):
        seen = bounded(lambda probe=probe: probe(server))  # type: ignore[misc]
        assert says in seen.reason


@pytest.mark.parametrize(
    ("base", "says"),
    [
        ("/gzip-bomb", "body: > 4 MiB allowed (max_body) once gzip-decoded"),
        ("/trickle-body", "body not complete within 1s"),
        ("/json-control", 'not JSON: {"status": "\\x00\\x1b[2J'),
        ("/redirect-loop", "redirect loop: "),
    ],
)
def test_monitoring_api_reads_are_bounded(hostile: Any, base: str, says: str) -> None:
    manager = AlertmanagerConfig(url=hostile.url + base, timeout=DEADLINE)

    seen = bounded(lambda: alertmanager.receivers_valid(manager))
    start = time.monotonic()
    with pytest.raises(ApiError) as raised:
        get_json(hostile.url + base, "/api/v1/rules", DEADLINE)

    assert time.monotonic() - start < DEADLINE + SLACK
    assert says in seen.reason
    assert says in str(raised.value) and str(raised.value).isprintable()


def test_chaos_steady_state_against_a_trickle_fails_in_time(hostile: Any, tmp_path: Path) -> None:
    environment = Environment.model_validate(
        {
            "services": {
                "api": {
                    "kind": "http",
                    "url": hostile.url,
                    "health": {"path": "/trickle-headers", "timeout": DEADLINE},
                }
            }
        }
    )

    with ExitStack() as stack:
        steady = steady_state(environment, None, stack, tmp_path)
        seen = bounded(steady.check)

    assert "headers not complete within 1s" in seen.reason


def test_decompression_is_held_to_the_deadline_too(hostile: Any) -> None:
    # The bomb's 1 GiB of zeros take about 4 s to inflate here, with no network read in between
    # (256 MiB took 0.9-1.4 s: too close to the 1 s deadline to say which comes first).
    roomy = service(hostile.url, max_body="1GiB")

    seen = bounded(lambda: check_endpoint(roomy, health("/gzip-bomb")))

    assert "body not complete within 1s (" in seen.reason
    assert "gzip-decoded from " in seen.reason
