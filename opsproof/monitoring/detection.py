"""Detection in chaos: the alerts an experiment declares must fire in Prometheus and reach the
run's webhook within their budgets, then resolve after the revert; every step is timed.

A thread polls Prometheus's alerts every ``monitoring.poll_interval`` from the injection on, so
*firing* is timed to that interval, and never later than the alert's notification; a
notification is timed when it arrives at the webhook.
"""

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from opsproof.config.models import AlertExpectationSpec, Environment, PrometheusService
from opsproof.errors import ApiError, ReceiverError
from opsproof.monitoring.receiver import NotifiedAlert, WebhookReceiver
from opsproof.monitoring.rules import rules_from_prometheus
from opsproof.probes.alertmanager import alert_fate
from opsproof.probes.monitoring_api import dicts, get_json, labels_of
from opsproof.probes.result import Figure
from opsproof.support.redact import redact_url

CLOCK_SLACK = 1.0
"""A notified alert that started this much before the injection is from an earlier outage."""
WAIT_STEP = 0.05


@dataclass
class _Times:
    """What was seen of one expected alert, on the monotonic clock."""

    spec: AlertExpectationSpec
    fired_at: float | None = None
    notified_at: float | None = None
    notified_labels: dict[str, str] | None = None
    cleared_at: float | None = None
    resolved_at: float | None = None
    seen: str = "not asked yet"
    """Prometheus's last word on it, for a failure's reason."""
    fate: str = ""
    """Alertmanager's word on it when it was not delivered."""


@dataclass(frozen=True)
class Refusal:
    """Why the experiment must not inject: ``failed`` (the monitoring cannot detect) or
    ``inconclusive`` (an expected alert is already firing)."""

    verdict: Literal["failed", "inconclusive"]
    reason: str


@dataclass(frozen=True)
class Detection:
    figures: dict[str, Figure]
    problems: list[str]
    summary: str
    time_to_detect_s: float | None = None
    """From injection to the last expected notification (to firing without a webhook)."""


def _matches(spec: AlertExpectationSpec, labels: dict[str, str]) -> bool:
    return labels.get("alertname") == spec.name and spec.labels.items() <= labels.items()


def _named(spec: AlertExpectationSpec) -> str:
    extra = ", ".join(f'{k}="{v}"' for k, v in spec.labels.items())
    return f"{spec.name}{{{extra}}}" if extra else spec.name


class AlertWatch:
    """Awaits an experiment's alerts; ``prepare`` → ``start`` → ``wait_detected`` →
    ``reverted`` → ``wait_resolved`` → ``detection``."""

    def __init__(self, environment: Environment, specs: list[AlertExpectationSpec]) -> None:
        monitoring = environment.monitoring
        assert monitoring is not None and monitoring.prometheus is not None  # validated
        prometheus = environment.services[monitoring.prometheus]
        assert isinstance(prometheus, PrometheusService)
        self.monitoring, self.prometheus = monitoring, prometheus
        self._times = [_Times(spec) for spec in specs]
        self._receiver: WebhookReceiver | None = None
        self._since = self._since_wall = 0.0
        self._revert: float | None = None
        self._handled = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def _alerts(self) -> list[dict[str, object]]:
        data = get_json(self.prometheus.url, "/api/v1/alerts", self.prometheus.timeout)
        return dicts(data.get("alerts")) if isinstance(data, dict) else []

    def prepare(self, stack: ExitStack) -> Refusal | None:
        """Before injection: each alert is a rule, none fires yet, the webhook listens."""
        try:
            rules = {
                rule.name
                for rule in rules_from_prometheus(self.prometheus.url, self.prometheus.timeout)
            }
            firing = [labels_of(a) for a in self._alerts() if a.get("state") == "firing"]
        except ApiError as exc:
            return Refusal("failed", f"cannot ask Prometheus about alerts; nothing injected: {exc}")
        missing = sorted({times.spec.name for times in self._times} - rules)
        if missing:
            return Refusal(
                "failed",
                f"Prometheus {redact_url(self.prometheus.url)} has no alerting rule "
                f"{', '.join(missing)} "
                f"(it has {', '.join(sorted(rules)) or 'none'}); nothing injected",
            )
        specs = [times.spec for times in self._times]
        already = [_named(s) for s in specs if any(_matches(s, f) for f in firing)]
        if already:
            return Refusal(
                "inconclusive",
                f"{', '.join(already)} already firing before injection; nothing injected",
            )
        if self.monitoring.webhook is not None:
            try:
                self._receiver = stack.enter_context(
                    WebhookReceiver(self.monitoring.webhook.listen)
                )
            except ReceiverError as exc:
                return Refusal("failed", f"{exc}; nothing injected")
        stack.callback(self._stop.set)
        return None

    def start(self, since: float, since_wall: datetime) -> None:
        """Begin polling at the injection (``since`` on the monotonic clock)."""
        self._since, self._since_wall = since, since_wall.timestamp()
        threading.Thread(target=self._poll, daemon=True, name="opsproof-alerts").start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                alerts = self._alerts()
            except ApiError as exc:
                with self._lock:
                    for times in self._times:
                        times.seen = f"Prometheus did not answer: {exc}"
            else:
                self._update(alerts, time.monotonic())
            self._take_notifications()
            self._stop.wait(max(0.0, began + self.monitoring.poll_interval - time.monotonic()))

    def _update(self, alerts: list[dict[str, object]], now: float) -> None:
        with self._lock:
            for times in self._times:
                same = [a for a in alerts if labels_of(a).get("alertname") == times.spec.name]
                fires = any(
                    a.get("state") == "firing" and _matches(times.spec, labels_of(a)) for a in same
                )
                if times.fired_at is None:
                    if fires:
                        times.fired_at = now
                    elif now <= self._since + times.spec.within:
                        times.seen = _describe(same)  # as it was within the budget
                elif not fires and times.cleared_at is None and self._revert is not None:
                    times.cleared_at = now

    def _take_notifications(self) -> None:
        if self._receiver is None:
            return
        arrived = self._receiver.notifications()
        with self._lock:
            for notification in arrived[self._handled :]:
                if notification.received >= self._since:
                    for alert in notification.alerts:
                        self._notified(alert, notification.received)
            self._handled = len(arrived)

    def _notified(self, alert: NotifiedAlert, received: float) -> None:
        for times in self._times:
            if not _matches(times.spec, alert.labels):
                continue
            started = alert.starts_at.timestamp() if alert.starts_at else self._since_wall
            if alert.status == "firing" and times.notified_at is None:
                if started >= self._since_wall - CLOCK_SLACK:
                    times.notified_at, times.notified_labels = received, alert.labels
                    # Alertmanager only sends what Prometheus fires: a poll that saw the firing
                    # later (its answer was slow, or the poller waited for a CPU) is late.
                    if times.fired_at is None or received < times.fired_at:
                        times.fired_at = received
            elif alert.status == "resolved" and alert.labels == times.notified_labels:
                times.resolved_at = times.resolved_at or received

    def _wait(self, done: Callable[[_Times], bool], deadline: Callable[[_Times], float]) -> None:
        while True:
            now = time.monotonic()
            with self._lock:
                pending = [t for t in self._times if not done(t) and now < deadline(t)]
            if not pending:
                return
            time.sleep(WAIT_STEP)

    def _detected(self, times: _Times) -> bool:
        return (times.notified_at if self._receiver else times.fired_at) is not None

    def wait_detected(self) -> None:
        """Until every alert is detected or its budget from the injection has passed; then
        ask Alertmanager why a fired alert was not delivered."""
        self._wait(self._detected, lambda t: self._since + t.spec.within)
        alertmanager = self.monitoring.alertmanager
        for times in self._times:
            if times.fired_at and not self._detected(times) and alertmanager is not None:
                times.fate = alert_fate(alertmanager, times.spec.name, times.spec.labels)

    def reverted(self, at: float) -> None:
        """The fault's revert began at ``at``: from now on an alert that stops firing is
        resolved."""
        with self._lock:
            self._revert = at

    def _resolved(self, times: _Times) -> bool:
        if times.fired_at is None:
            return True
        delivered = times.notified_at is None or times.resolved_at is not None
        return times.cleared_at is not None and delivered

    def wait_resolved(self) -> None:
        """Until every fired alert stopped firing (and its resolved notification arrived, when
        its firing one did) or ``resolved_within`` from the revert has passed."""
        assert self._revert is not None
        revert = self._revert
        self._wait(self._resolved, lambda t: revert + t.spec.resolved_within)
        self._stop.set()

    def detection(self) -> Detection:
        """The figures, the problems (none: detected and resolved in time) and a summary."""
        with self._lock:
            return _judge(self._times, self._since, self._revert, self._receiver)


def _describe(same: list[dict[str, object]]) -> str:
    if not same:
        return "no such alert active (its expression selected nothing)"
    return "; ".join(
        f"{a.get('state')} since {a.get('activeAt')} with {labels_of(a)}" for a in same[:3]
    )


def _seconds(at: float | None, since: float | None) -> float | None:
    return None if at is None or since is None else round(at - since, 3)


def _judge_one(
    times: _Times, since: float, revert: float | None, hook: WebhookReceiver | None
) -> tuple[dict[str, Figure], list[str], str]:
    """One alert's figures, problems and summary."""
    spec, name, key = times.spec, _named(times.spec), f"alert.{times.spec.name}"
    fired, notified = _seconds(times.fired_at, since), _seconds(times.notified_at, since)
    budget = f"<= {spec.within:g}"
    figures = {f"{key}.firing_s": Figure(fired, "s", None if hook else budget)}
    if hook:
        figures[f"{key}.notified_s"] = Figure(notified, "s", budget)
    if fired is None:
        seen = f"{name} did not fire within {spec.within:g} s of the injection; Prometheus: "
        return figures, [seen + times.seen], ""
    problems = []
    detected = notified if hook else fired
    if hook and notified is None:
        problems.append(
            f"{name} fired after {fired:.2f} s but was not delivered: no notification reached "
            f"the webhook {hook.url} within {spec.within:g} s"
            + (f"; {times.fate}" if times.fate else "")
        )
    elif detected is not None and detected > spec.within:
        problems.append(f"{name} detected only after {detected:.2f} s (budget {spec.within:g} s)")
    resolved = _seconds(times.resolved_at if times.notified_at else times.cleared_at, revert)
    figures[f"{key}.inactive_s"] = Figure(_seconds(times.cleared_at, revert), "s")
    figures[f"{key}.resolved_s"] = Figure(resolved, "s", f"<= {spec.resolved_within:g}")
    if resolved is None or resolved > spec.resolved_within:
        why = "still firing" if times.cleared_at is None else "no resolved notification"
        problems.append(
            f"{name} not resolved within {spec.resolved_within:g} s of the revert ({why})"
        )
    delivered = f", notified after {notified:.2f} s" if notified is not None else ""
    after = "never" if resolved is None else f"{resolved:.2f} s after the revert"
    summary = f"{name} firing after {fired:.2f} s{delivered}, resolved {after}"
    return figures, problems, summary


def _judge(
    all_times: list[_Times], since: float, revert: float | None, hook: WebhookReceiver | None
) -> Detection:
    figures: dict[str, Figure] = {}
    problems: list[str] = []
    words: list[str] = []
    for times in all_times:
        found, wrong, summary = _judge_one(times, since, revert, hook)
        figures.update(found)
        problems += wrong
        words += [summary] if summary and not wrong else []
    detected = [
        figures[
            f"alert.{t.spec.name}.notified_s" if hook else f"alert.{t.spec.name}.firing_s"
        ].value
        for t in all_times
    ]
    seconds = [float(d) for d in detected if isinstance(d, float | int)]
    time_to_detect = max(seconds) if seconds and len(seconds) == len(detected) else None
    figures["time_to_detect_s"] = Figure(time_to_detect, "s")
    return Detection(figures, problems, "; ".join(words), time_to_detect)
