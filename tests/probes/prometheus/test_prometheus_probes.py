"""Prometheus probes against a real Prometheus scraping one target up and one down."""

import time
from typing import Any

import pytest

from opsproof.config.models import PrometheusService
from opsproof.probes.prometheus import no_critical_alerts, targets_up


def svc(url: str, **fields: Any) -> PrometheusService:
    return PrometheusService.model_validate(
        {"kind": "prometheus", "url": url, "timeout": 1, **fields}
    )


def test_targets_up_passes_when_the_expected_job_is_up(prometheus: Any) -> None:
    seen = targets_up(svc(prometheus.url, expected_jobs=["app"]))

    assert seen.ok, seen.reason
    assert seen.target == f"{prometheus.url} targets"
    assert seen.reason == f"{prometheus.url} targets: all 1 targets up"
    assert seen.figures["targets_down"].value == 0


@pytest.mark.parametrize("jobs", [["ghost"], []], ids=["expected=ghost", "expected=all"])
def test_targets_up_names_the_down_target_and_its_last_error(
    prometheus: Any, jobs: list[str]
) -> None:
    seen = targets_up(svc(prometheus.url, expected_jobs=jobs))

    assert not seen.ok
    assert f"ghost {prometheus.ghost_url} is down: " in seen.reason
    assert "connection refused" in seen.reason  # Prometheus's lastError, quoted
    assert "app" not in seen.reason.removeprefix(f"{prometheus.url} targets: ")
    assert seen.figures["targets_down"].value == 1
    assert seen.figures["targets"].value == (1 if jobs else 2)


@pytest.mark.parametrize("job", ["idle", "never_configured"])
def test_an_expected_job_without_any_target_fails_saying_so(prometheus: Any, job: str) -> None:
    seen = targets_up(svc(prometheus.url, expected_jobs=["app", job]))

    assert not seen.ok
    assert seen.reason == f"{prometheus.url} targets: job {job} has no active target"
    assert seen.figures["targets"].value == 1


def test_a_firing_critical_alert_is_named(prometheus: Any) -> None:
    seen = no_critical_alerts(svc(prometheus.url, critical_severities=["critical"]))

    assert not seen.ok
    assert seen.target == f"{prometheus.url} alerts"
    assert seen.reason == (
        f"{prometheus.url} alerts: critical alerts firing: AlwaysCritical (critical)"
    )
    assert seen.figures["critical_alerts"].value == 1


def test_alerts_of_other_severities_do_not_count(prometheus: Any) -> None:
    seen = no_critical_alerts(svc(prometheus.url, critical_severities=["page"]))

    assert seen.ok, seen.reason  # AlwaysWarning and AlwaysCritical fire, neither is "page"
    assert seen.reason == f"{prometheus.url} alerts: no critical alert firing"
    assert seen.figures["critical_alerts"].value == 0


@pytest.mark.parametrize("probe", [targets_up, no_critical_alerts])
def test_a_stopped_prometheus_fails_with_a_reason(unused_port: int, probe: Any) -> None:
    url = f"http://127.0.0.1:{unused_port}"

    seen = probe(svc(url))

    assert not seen.ok
    assert seen.reason.endswith(": connection refused")
    assert seen.reason.startswith(f"{seen.target}: GET {url}/api/v1/")
    assert seen.elapsed_s < 1


@pytest.mark.parametrize("probe", [targets_up, no_critical_alerts])
def test_a_silent_prometheus_fails_after_the_timeout(hang_server: Any, probe: Any) -> None:
    start = time.monotonic()

    seen = probe(svc(f"http://127.0.0.1:{hang_server.port}"))

    assert time.monotonic() - start < 2.5
    assert not seen.ok
    assert seen.reason.endswith(": no answer within 1s")


def test_a_server_that_is_not_prometheus_fails_quoting_its_answer(prometheus: Any) -> None:
    not_prometheus = prometheus.app_url.removesuffix("/metrics")

    seen = targets_up(svc(not_prometheus))

    assert not seen.ok
    assert "expected status 200 with a success answer, got 200 # HELP" in seen.reason


def test_a_password_in_the_url_never_reaches_the_target_or_reason(
    prometheus: Any, unused_port: int
) -> None:
    with_password = prometheus.url.replace("http://", "http://ops:hunter2@")
    stopped = f"http://ops:hunter2@127.0.0.1:{unused_port}"

    answered = targets_up(svc(with_password, expected_jobs=["app"]))
    refused = no_critical_alerts(svc(stopped))

    assert answered.ok, answered.reason
    assert answered.target == prometheus.url.replace("http://", "http://ops@") + " targets"
    assert not refused.ok
    for seen in (answered, refused):
        assert "hunter2" not in seen.target + seen.reason
