"""Does an alert fire when a service is down? Every service needs one.

An alert covers a service when the config names it (``monitoring.down_alerts``) and it exists,
or when its expression selects a metric that says "down" for the service's scrape jobs: ``up``
and ``probe_success`` for any service, ``redis_up`` for Redis, ``pg_up`` for PostgreSQL. A
selector without a ``job`` matcher covers every job. PromQL is only scanned for selectors
here (no Python PromQL parser is maintained); an alert this misses can be named in config.
"""

import re
from dataclasses import dataclass

from opsproof.config.models import Environment, PrometheusService
from opsproof.errors import ApiError
from opsproof.monitoring.rules import (
    AlertRule,
    expand,
    rule_files,
    rules_from_prometheus,
    rules_in_files,
    scrape_jobs,
)
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed

DOWN_METRICS = {
    "http": ("up", "probe_success"),
    "redis": ("up", "probe_success", "redis_up"),
    "postgres": ("up", "probe_success", "pg_up"),
    "host": ("up", "probe_success"),
}
"""Per service kind, the metrics whose 0 means "down". A Prometheus cannot alert on its own
death, so prometheus services are covered only when an alert is named for them."""

_SELECTOR = re.compile(r"(?<![\w:\"'`])(?P<metric>[A-Za-z_:][\w:]*)\s*(?:\{(?P<matchers>[^}]*)\})?")
_MATCHER = re.compile(r"(?P<label>\w+)\s*(?P<op>=~|!=|!~|=)\s*(?P<q>[\"'`])(?P<value>.*?)(?P=q)")


@dataclass(frozen=True)
class DownAlertTarget:
    """One service whose down-alert is looked for."""

    service: str
    kind: str
    jobs: list[str]
    named: str | None
    """The alert named for it in config, if any."""


def _matches(op: str, value: str, job: str) -> bool:
    try:
        if op in ("=~", "!~"):
            hit = re.fullmatch(value, job) is not None  # Prometheus anchors its regexes
            return hit if op == "=~" else not hit
    except re.error:
        return False
    return (value == job) if op == "=" else (value != job)


def covers(rule: AlertRule, metrics: tuple[str, ...], jobs: list[str]) -> bool:
    """The rule's expression selects one of ``metrics`` for one of ``jobs``."""
    for selector in _SELECTOR.finditer(rule.expr):
        if selector["metric"] not in metrics:
            continue
        matchers = [m for m in _MATCHER.finditer(selector["matchers"] or "") if m["label"] == "job"]
        if any(all(_matches(m["op"], m["value"], job) for m in matchers) for job in jobs):
            return True
    return False


def _describe(rule: AlertRule) -> str:
    return f"{rule.name} ({' '.join(rule.expr.split())}, for {rule.for_s:g}s) in {rule.source}"


def down_alert(
    target: DownAlertTarget, rules: list[AlertRule], scraped: set[str] | None
) -> Observation:
    """Pass when an alert fires for the service being down; the failure names the service and
    the fix. ``scraped``: the jobs Prometheus scrapes, when known."""
    what = f"{target.service} down-alert"
    names = sorted({r.name for r in rules})
    figures = {"rules": Figure(len(rules))}
    if target.named is not None:
        named = [r for r in rules if r.name == target.named]
        if not named:
            reason = (
                f"{what}: monitoring.down_alerts.{target.service} names {target.named}, which is "
                f"not among the rules ({', '.join(names) or 'none'})"
            )
            return Observation(False, what, reason, figures)
        return Observation(True, what, f"{what}: {_describe(named[0])} (named in config)", figures)
    metrics = DOWN_METRICS.get(target.kind)
    if metrics is None:
        reason = (
            f"{what}: a {target.kind} service cannot be covered by its own alerts; name the alert "
            f"another server raises in monitoring.down_alerts.{target.service}"
        )
        return Observation(False, what, reason, figures)
    if scraped is not None and not set(target.jobs) & scraped:
        reason = (
            f"{what}: {target.service} is not scraped: no job {' or '.join(target.jobs)} in the "
            f"Prometheus config (jobs: {', '.join(sorted(scraped)) or 'none'}); set "
            f"monitoring.scrape_jobs.{target.service} to the jobs that watch it"
        )
        return Observation(False, what, reason, figures)
    covering = [r for r in rules if covers(r, metrics, target.jobs)]
    if not covering:
        selectors = " or ".join(metrics)
        reason = (
            f"{what}: no alert fires when {target.service} is down: no rule selects {selectors} "
            f"for job {' or '.join(target.jobs)} (alerts: {', '.join(names) or 'none'}); add one, "
            f'e.g. {metrics[-1]}{{job="{target.jobs[0]}"}} == 0, or name it in '
            f"monitoring.down_alerts.{target.service}"
        )
        return Observation(False, what, reason, figures)
    figures["covering_alerts"] = Figure(len(covering))
    found = "; ".join(_describe(r) for r in covering)
    return Observation(True, what, f"{what}: {found}", figures)


@timed
def service_covered(environment: Environment, target: DownAlertTarget) -> Observation:
    """The down-alert check of one service, with the rules from the team's rule files, else
    from the rules its Prometheus has loaded."""
    monitoring = environment.monitoring
    assert monitoring is not None  # there are no targets without it
    patterns = rule_files(monitoring)
    if patterns:
        rules = rules_in_files(expand(patterns))
    elif monitoring.prometheus is not None:
        prometheus = environment.services[monitoring.prometheus]
        assert isinstance(prometheus, PrometheusService)
        try:
            rules = rules_from_prometheus(prometheus.url, prometheus.timeout)
        except ApiError as exc:
            what = f"{target.service} down-alert"
            return Observation(False, what, f"{what}: cannot read the rules: {exc}")
    else:
        rules = []
    scraped = None if monitoring.config_file is None else scrape_jobs(monitoring.config_file)
    return down_alert(target, rules, scraped)
