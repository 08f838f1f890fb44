"""Monitoring sees the service: metrics exposed, scrape targets up, no critical alert firing."""

import pytest

from opsproof.config.models import PrometheusService
from opsproof.probes import metrics, prometheus
from opsproof.targets import MetricsTarget, Target
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.16")


def test_metrics_exposed(metrics_target: MetricsTarget, verify: Verifier) -> None:
    verify(lambda: metrics.metrics_exposed(metrics_target.service, metrics_target.metrics))


def test_prometheus_targets_up(
    prometheus_target: Target[PrometheusService], verify: Verifier
) -> None:
    verify(lambda: prometheus.targets_up(prometheus_target.service))


def test_no_critical_alerts(prometheus_target: Target[PrometheusService], verify: Verifier) -> None:
    verify(lambda: prometheus.no_critical_alerts(prometheus_target.service))
