"""Firing is timed by polling Prometheus, a notification by its arrival: when the poll sees the
firing only after the notification arrived (a slow answer, a starved poller), the notification
bounds the firing time, so an alert is never reported as notified before it fired."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opsproof.config.loader import load_environment
from opsproof.config.models import AlertExpectationSpec
from opsproof.monitoring.detection import AlertWatch
from opsproof.monitoring.receiver import NotifiedAlert, WebhookReceiver
from opsproof.support.ports import free_ports

CONFIG = """\
version: 1
environments:
  lab:
    services:
      prom: {kind: prometheus, url: "http://127.0.0.1:2"}
    monitoring: {prometheus: prom}
"""
LABELS = {"alertname": "RedisDown", "severity": "critical"}
FIRING = {"state": "firing", "labels": LABELS, "activeAt": "2026-11-23T01:00:00Z"}


@pytest.fixture
def alert_watch(tmp_path: Path) -> Iterator[AlertWatch]:
    """A watch injected at 100.0 on the monotonic clock, with a webhook (so notifications are
    what detects)."""
    path = tmp_path / "opsproof.yaml"
    path.write_text(CONFIG)
    environment = load_environment(path, "lab", stack=lambda: None).environment
    watch = AlertWatch(environment, [AlertExpectationSpec(name="RedisDown")])
    watch._since, watch._since_wall = 100.0, datetime.now(UTC).timestamp()
    with WebhookReceiver(f"127.0.0.1:{free_ports(1)[0]}") as hook:
        watch._receiver = hook
        yield watch


def notify(alert_watch: AlertWatch, received: float) -> None:
    alert = NotifiedAlert("firing", LABELS, datetime.now(UTC))
    alert_watch._notified(alert, received)


def test_a_notification_before_the_poll_saw_the_firing_bounds_the_firing_time(
    alert_watch: AlertWatch,
) -> None:
    notify(alert_watch, received=102.3)
    alert_watch._update([FIRING], now=102.4)

    figures = alert_watch.detection().figures
    assert figures["alert.RedisDown.firing_s"].value == 2.3
    assert figures["alert.RedisDown.notified_s"].value == 2.3


def test_a_firing_seen_before_its_notification_keeps_its_own_time(
    alert_watch: AlertWatch,
) -> None:
    alert_watch._update([FIRING], now=102.0)
    notify(alert_watch, received=102.4)

    figures = alert_watch.detection().figures
    assert figures["alert.RedisDown.firing_s"].value == 2.0
    assert figures["alert.RedisDown.notified_s"].value == 2.4
