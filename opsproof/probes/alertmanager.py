"""Alertmanager probes: reachable with valid receivers, fed by Prometheus, and what it did with
one alert (delivered, silenced, inhibited, routed elsewhere)."""

from urllib.parse import quote, urlsplit

import yaml

from opsproof.config.models import AlertmanagerConfig, PrometheusService
from opsproof.errors import ApiError
from opsproof.probes.monitoring_api import dicts, get_json, labels_of
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.redact import redact_url
from opsproof.support.text import one_line


def _integrations(receiver: dict[str, object]) -> list[str]:
    """``webhook``, ``email``, ... for each non-empty ``*_configs`` list of a receiver."""
    return [
        key.removesuffix("_configs")
        for key, value in receiver.items()
        if key.endswith("_configs") and isinstance(value, list) and value
    ]


@timed
def receivers_valid(alertmanager: AlertmanagerConfig) -> Observation:
    """It answers, the receivers the config expects exist, and none of its receivers is a
    black hole (a receiver without integration drops every alert routed to it)."""
    target = f"alertmanager {redact_url(alertmanager.url)}"
    try:
        status = get_json(
            alertmanager.url, "/api/v2/status", alertmanager.timeout, int(alertmanager.max_body)
        )
    except ApiError as exc:
        return Observation(False, target, f"{target}: not reachable: {exc}")
    config = status.get("config") if isinstance(status, dict) else None
    original = config.get("original") if isinstance(config, dict) else None
    try:
        loaded = yaml.safe_load(str(original or ""))
    except yaml.YAMLError:
        loaded = None
    receivers = dicts(loaded.get("receivers")) if isinstance(loaded, dict) else []
    kinds = {str(r.get("name")): _integrations(r) for r in receivers}
    problems = [f"receiver {name} has no integration: alerts routed to it are dropped"
                for name, found in kinds.items() if not found]  # fmt: skip
    problems += [
        f"expected receiver {name} is not configured (receivers: {', '.join(kinds) or 'none'})"
        for name in alertmanager.receivers
        if name not in kinds
    ]
    figures = {
        "receivers": Figure(len(kinds)),
        "receivers_without_integration": Figure(sum(not k for k in kinds.values()), target="== 0"),
    }
    if problems:
        return Observation(False, target, f"{target}: " + "; ".join(problems), figures)
    listed = ", ".join(f"{name}: {'+'.join(found)}" for name, found in kinds.items())
    return Observation(True, target, f"{target}: receivers valid ({listed})", figures)


@timed
def prometheus_sends_alerts(
    prometheus: PrometheusService, alertmanager: AlertmanagerConfig | None
) -> Observation:
    """Prometheus has an active Alertmanager to send alerts to (the configured one, if any):
    without one, rules fire and nobody is told."""
    target = f"{redact_url(prometheus.url)} alertmanagers"
    try:
        data = get_json(
            prometheus.url, "/api/v1/alertmanagers", prometheus.timeout, int(prometheus.max_body)
        )
    except ApiError as exc:
        return Observation(False, target, f"{target}: {exc}")
    found = data.get("activeAlertmanagers") if isinstance(data, dict) else None
    active = [str(a.get("url")) for a in dicts(found)]
    figures = {"active_alertmanagers": Figure(len(active), target=">= 1")}
    if not active:
        reason = f"{target}: no active Alertmanager: alerts reach nobody"
        return Observation(False, target, reason, figures)
    if alertmanager is not None:
        wanted = urlsplit(alertmanager.url).netloc
        if not any(urlsplit(url).netloc == wanted for url in active):
            reason = f"{target}: sends to {', '.join(active)}, not to the configured {wanted}"
            return Observation(False, target, reason, figures)
    return Observation(True, target, f"{target}: sends alerts to {', '.join(active)}", figures)


def alert_fate(alertmanager: AlertmanagerConfig, name: str, labels: dict[str, str]) -> str:
    """What Alertmanager did with an alert, in words: unknown to it, silenced (by whom, why),
    inhibited, or active and routed to which receivers."""
    path = "/api/v2/alerts?filter=" + quote(f'alertname="{name}"')
    try:
        alerts = dicts(
            get_json(alertmanager.url, path, alertmanager.timeout, int(alertmanager.max_body))
        )
    except ApiError as exc:
        return f"Alertmanager could not be asked: {exc}"
    matching = [a for a in alerts if labels.items() <= labels_of(a).items()]
    if not matching:
        return "Alertmanager never received it (is Prometheus sending alerts to it?)"
    words = []
    for alert in matching:
        raw = alert.get("status")
        status: dict[str, object] = raw if isinstance(raw, dict) else {}
        receivers = [str(r.get("name")) for r in dicts(alert.get("receivers"))]
        silenced = [_silence(alertmanager, s) for s in _strings(status.get("silencedBy"))]
        inhibited = _strings(status.get("inhibitedBy"))
        state = f"Alertmanager: {status.get('state', 'unknown')}"
        if silenced:
            state += f", silenced by {', '.join(silenced)}"
        if inhibited:
            state += f", inhibited by alert {', '.join(inhibited)}"
        words.append(f"{state}, routed to receivers {', '.join(receivers) or 'none'}")
    return one_line("; ".join(dict.fromkeys(words)), 600)  # Alertmanager's words, made printable


def _strings(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


def _silence(alertmanager: AlertmanagerConfig, silence_id: str) -> str:
    try:
        silence = get_json(
            alertmanager.url,
            f"/api/v2/silence/{silence_id}",
            alertmanager.timeout,
            int(alertmanager.max_body),
        )
    except ApiError:
        return silence_id
    if not isinstance(silence, dict):
        return silence_id
    return f"{silence_id} ({silence.get('createdBy')}: {silence.get('comment')})"
