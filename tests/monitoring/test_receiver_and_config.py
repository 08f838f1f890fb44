"""The run's webhook receives Alertmanager's payload as sent; monitoring config mistakes are
named before anything runs."""

import json
import socket
from pathlib import Path

import httpx
import pytest

from opsproof.config.loader import load_environment
from opsproof.errors import ConfigError, ReceiverError
from opsproof.monitoring.receiver import WebhookReceiver
from opsproof.support.ports import free_ports

PAYLOAD = {
    "version": "4",
    "status": "firing",
    "receiver": "opsproof",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "RedisDown", "severity": "critical"},
            "startsAt": "2026-11-23T01:00:00.123Z",
        }
    ],
}


def test_a_notification_is_recorded_with_its_alerts() -> None:
    with WebhookReceiver(f"127.0.0.1:{free_ports(1)[0]}") as hook:
        answer = httpx.post(f"{hook.url}/alerts", content=json.dumps(PAYLOAD), timeout=5)
        (seen,) = hook.notifications()
    assert answer.status_code == 200
    assert seen.receiver == "opsproof"
    (alert,) = seen.alerts
    assert alert.status == "firing" and alert.labels["alertname"] == "RedisDown"
    assert alert.starts_at is not None and alert.starts_at.microsecond == 123000


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ReceiverError, match=f"cannot listen on http://127.0.0.1:{port}"):
            WebhookReceiver(f"127.0.0.1:{port}").__enter__()


BASE = """\
version: 1
environments:
  lab:
    chaos: allowed
    services:
      redis: {kind: redis, url: "redis://127.0.0.1:1/0"}
      prom: {kind: prometheus, url: "http://127.0.0.1:2"}
"""


def load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(BASE + text)
    load_environment(path, "lab", stack=lambda: None)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "    monitoring: {prometheus: redis}\n",
            "'redis' is not a prometheus service here (prom)",
        ),
        ("    monitoring: {down_alerts: {cache: X}}\n", "'cache' is not a service here"),
        ("    monitoring: {webhook: {listen: localhost}}\n", "expected host:port"),
        (
            "    chaos_plan:\n      may_hit: [redis]\n      experiments:\n"
            "        - {name: k, fault: {action: kill, service: redis}, alerts: [{name: A}]}\n",
            "alerts need a Prometheus to ask: set monitoring.prometheus",
        ),
        (
            "    monitoring: {prometheus: prom}\n    chaos_plan:\n      may_hit: [redis]\n"
            "      experiments:\n        - name: k\n"
            "          fault: {action: kill, service: redis}\n"
            "          alerts: [{name: A, within: 90s}]\n",
            "deadline (60 s) must exceed the longest alert budget (within: 90 s)",
        ),
    ],
    ids=["not prometheus", "unknown service", "listen", "no prometheus", "deadline"],
)
def test_monitoring_mistakes_are_named(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as error:
        load(tmp_path, text)
    assert says in str(error.value)
    assert "opsproof.yaml:" in str(error.value)


def test_a_complete_monitoring_block_loads(tmp_path: Path) -> None:
    load(
        tmp_path,
        "    monitoring:\n      prometheus: prom\n      webhook: {listen: '127.0.0.1:9099'}\n"
        "      alertmanager: {url: 'http://127.0.0.1:9093', receivers: [team]}\n"
        "      scrape_jobs: {redis: [redis-exporter]}\n      down_alerts: {prom: Watchdog}\n",
    )
