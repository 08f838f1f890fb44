"""Metrics probe: a Prometheus text endpoint exposes every metric name the config requires."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from opsproof.config.models import HttpService, MetricsCheck
from opsproof.errors import FetchError
from opsproof.probes._fetch import fetch_from
from opsproof.probes.http import endpoint_url
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.text import one_line


@timed
def metrics_exposed(
    service: HttpService, metrics: MetricsCheck, client: httpx.Client | None = None
) -> Observation:
    """Every name in ``metrics.names`` is exposed.

    A name matches a family (``http_requests``, ``latency_seconds``) or one of its samples
    (``http_requests_total``, ``latency_seconds_bucket``), so either spelling can be required.
    """
    url = endpoint_url(service, metrics.path)
    target = f"GET {url}"
    try:
        answer = fetch_from(service, client, "GET", url, service.timeout)
    except FetchError as exc:
        return Observation(False, target, f"{target}: {exc}")
    if answer.status != 200:
        reason = f"{target}: expected status 200, got {answer.status} {answer.excerpt()}"
        return Observation(False, target, reason)
    try:
        exposed = _exposed_names(answer.body.decode())
    except (UnicodeDecodeError, ValueError, IndexError) as exc:
        reason = f"{target}: not the Prometheus text format ({one_line(str(exc), 120)})"
        return Observation(False, target, reason)
    missing = [name for name in metrics.names if name not in exposed]
    figures = {
        "missing_metrics": Figure(len(missing), target="== 0"),
    }
    if missing:
        reason = f"{target}: missing metrics {', '.join(missing)}"
        return Observation(False, target, reason, figures)
    reason = f"{target}: exposes all {len(metrics.names)} required metrics"
    return Observation(True, target, reason, figures)


def _exposed_names(text: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        # OpenMetrics names a counter family without ``_total``; accept both spellings.
        if family.type == "counter":
            names.add(family.name.removesuffix("_total"))
        names.update(sample.name for sample in family.samples)
    return names
