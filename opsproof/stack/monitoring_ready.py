"""Is a monitoring component ready? Each check returns None when it is, else what it saw."""

from collections.abc import Callable

import httpx

from opsproof.support.processes import ComponentState

CHECK_TIMEOUT = 1.0
JOBS = frozenset({"prometheus", "alertmanager", "api", "redis", "postgres", "node"})
"""The scrape jobs of the stack's Prometheus (fixtures/monitoring/prometheus.template.yml)."""

Check = Callable[[ComponentState], str | None]


def _get(component: ComponentState, path: str) -> httpx.Response | str:
    url = f"{component.url}{path}"
    try:
        response = httpx.get(url, timeout=CHECK_TIMEOUT, trust_env=False)
    except httpx.HTTPError as exc:
        return f"GET {url}: {type(exc).__name__}: {exc}"
    return response if response.status_code == 200 else f"GET {url}: HTTP {response.status_code}"


def _answers(path: str) -> Check:
    def check(component: ComponentState) -> str | None:
        answer = _get(component, path)
        return answer if isinstance(answer, str) else None

    return check


def prometheus_problem(component: ComponentState) -> str | None:
    """Ready once every job's target was scraped and is up: a check right after the start
    then sees the stack as it is, not the moments before the first scrape."""
    answer = _get(component, "/api/v1/targets?state=active")
    if isinstance(answer, str):
        return answer
    try:
        targets = answer.json()["data"]["activeTargets"]
        up = {t["labels"]["job"] for t in targets if t.get("health") == "up"}
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"GET {answer.url}: not Prometheus's targets answer"
    missing = sorted(JOBS - up)
    return f"targets not up yet: {', '.join(missing)}" if missing else None


CHECKS: dict[str, Check] = {
    "prometheus": prometheus_problem,
    "alertmanager": _answers("/-/ready"),
    "redis-exporter": _answers("/metrics"),
    "postgres-exporter": _answers("/metrics"),
    "node-exporter": _answers("/metrics"),
}
