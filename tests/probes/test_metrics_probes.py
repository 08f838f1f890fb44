"""The metrics probe against a real Prometheus text endpoint (prometheus_client output)."""

from typing import Any

from opsproof.config.models import HttpService, MetricsCheck
from opsproof.probes.metrics import metrics_exposed


def api(url: str) -> HttpService:
    return HttpService.model_validate({"kind": "http", "url": url})


def test_family_and_sample_names_both_count_as_exposed(http_app: Any) -> None:
    names = ["http_requests", "http_requests_total", "request_seconds", "request_seconds_bucket"]

    seen = metrics_exposed(api(http_app.url), MetricsCheck(names=names))

    assert seen.ok, seen.reason
    assert seen.figures["missing_metrics"].value == 0


def test_missing_metric_is_named(http_app: Any) -> None:
    check = MetricsCheck(names=["http_requests_total", "queue_depth", "jobs_failed_total"])

    seen = metrics_exposed(api(http_app.url), check)

    assert not seen.ok
    assert (
        seen.reason == f"GET {http_app.url}/metrics: missing metrics queue_depth, jobs_failed_total"
    )
    assert seen.figures["missing_metrics"].value == 2


def test_an_endpoint_that_is_not_prometheus_text_fails(http_app: Any) -> None:
    not_metrics = metrics_exposed(api(http_app.url), MetricsCheck(path="/items", names=["x"]))
    absent = metrics_exposed(api(http_app.url), MetricsCheck(path="/nope", names=["x"]))

    assert not not_metrics.ok
    assert "not the Prometheus text format" in not_metrics.reason
    assert not absent.ok
    assert "expected status 200, got 404" in absent.reason
