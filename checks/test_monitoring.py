"""Monitoring sees the service: metrics exposed, scrape targets up, no critical alert firing."""

import pytest

from opsproof.config.models import HttpService, PrometheusService
from opsproof.probes import metrics, prometheus
from opsproof.targets import Target
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.16")


def test_metrics_exposed(metrics_target: Target[HttpService], verify: Verifier) -> None:
    service = metrics_target.service
    assert service.metrics is not None
    verify(lambda: metrics.metrics_exposed(service, service.metrics))


def test_prometheus_targets_up(
    prometheus_target: Target[PrometheusService], verify: Verifier
) -> None:
    verify(lambda: prometheus.targets_up(prometheus_target.service))


def test_no_critical_alerts(prometheus_target: Target[PrometheusService], verify: Verifier) -> None:
    verify(lambda: prometheus.no_critical_alerts(prometheus_target.service))
