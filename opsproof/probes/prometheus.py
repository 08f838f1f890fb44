"""Prometheus probes: scrape targets are up, and no critical alert is firing."""

import json

from opsproof.config.models import PrometheusService
from opsproof.errors import FetchError, Unanswered
from opsproof.probes._client import BoundedClient, ReadLimits
from opsproof.probes._fetch import fetch
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.redact import redact_url


def _base(service: PrometheusService) -> str:
    """The server's URL without its password (httpx sends URL credentials as basic auth)."""
    return redact_url(service.url).rstrip("/")


def _api(service: PrometheusService, path: str) -> dict[str, object]:
    """The ``data`` object of a Prometheus HTTP API answer."""
    url = service.url.rstrip("/") + path
    shown = _base(service) + path
    try:
        with BoundedClient(limits=ReadLimits(max_body=int(service.max_body))) as client:
            answer = fetch(client, "GET", url, service.timeout)
    except FetchError as exc:
        raise Unanswered(f"GET {shown}: {exc}") from exc
    try:
        document = json.loads(answer.body)
    except (ValueError, RecursionError):
        document = None
    if (
        answer.status != 200
        or not isinstance(document, dict)
        or document.get("status") != "success"
    ):
        raise Unanswered(
            f"GET {shown}: expected status 200 with a success answer, "
            f"got {answer.status} {answer.excerpt()}"
        )
    data = document.get("data")
    return data if isinstance(data, dict) else {}


def _dicts(value: object) -> list[dict[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _labels(item: dict[str, object]) -> dict[str, str]:
    labels = item.get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


@timed
def targets_up(service: PrometheusService) -> Observation:
    """Every active target of ``expected_jobs`` (all jobs when empty) reports health ``up``.

    An expected job with no active target fails too, as does a Prometheus scraping nothing.
    """
    target = f"{_base(service)} targets"
    try:
        data = _api(service, "/api/v1/targets?state=active")
    except Unanswered as exc:
        return Observation(False, target, f"{target}: {exc}")
    scraped = _dicts(data.get("activeTargets"))
    jobs = set(service.expected_jobs)
    if jobs:
        scraped = [t for t in scraped if _labels(t).get("job") in jobs]
    down = [t for t in scraped if t.get("health") != "up"]
    absent = sorted(jobs - {_labels(t).get("job") for t in scraped})
    figures = {
        "targets": Figure(len(scraped)),
        "targets_down": Figure(len(down), target="== 0"),
    }
    problems = [
        f"{_labels(t).get('job')} {t.get('scrapeUrl')} is {t.get('health')}: "
        f"{t.get('lastError') or 'no error recorded'}"
        for t in down
    ] + [f"job {job} has no active target" for job in absent]
    if not scraped and not jobs:
        problems.append("no active target at all: Prometheus scrapes nothing")
    if problems:
        return Observation(False, target, f"{target}: " + "; ".join(problems), figures)
    return Observation(True, target, f"{target}: all {len(scraped)} targets up", figures)


@timed
def no_critical_alerts(service: PrometheusService) -> Observation:
    """No firing alert carries a severity listed in ``critical_severities``."""
    target = f"{_base(service)} alerts"
    try:
        data = _api(service, "/api/v1/alerts")
    except Unanswered as exc:
        return Observation(False, target, f"{target}: {exc}")
    severities = set(service.critical_severities)
    critical = [
        _labels(alert)
        for alert in _dicts(data.get("alerts"))
        if alert.get("state") == "firing" and _labels(alert).get("severity") in severities
    ]
    figures = {"critical_alerts": Figure(len(critical), target="== 0")}
    if critical:
        named = ", ".join(
            f"{labels.get('alertname', '?')} ({labels.get('severity')}"
            + (f", {labels['instance']})" if "instance" in labels else ")")
            for labels in critical
        )
        return Observation(False, target, f"{target}: critical alerts firing: {named}", figures)
    return Observation(True, target, f"{target}: no critical alert firing", figures)
