"""Alerts can reach someone: Alertmanager answers with valid receivers (none drops alerts), and
Prometheus sends its alerts to it."""

import pytest

from opsproof.config.loader import LoadedEnvironment
from opsproof.config.models import AlertmanagerConfig, PrometheusService
from opsproof.monitoring.targets import parametrize
from opsproof.plugin import CONTEXT_KEY
from opsproof.probes import alertmanager
from opsproof.targets import Target
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.16")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, metafunc.config.stash[CONTEXT_KEY].load)


def test_alertmanager_receivers_valid(
    alertmanager_target: Target[AlertmanagerConfig], verify: Verifier
) -> None:
    verify(lambda: alertmanager.receivers_valid(alertmanager_target.service))


def test_prometheus_sends_alerts(
    prometheus_target: Target[PrometheusService],
    ops_environment: LoadedEnvironment,
    verify: Verifier,
) -> None:
    monitoring = ops_environment.environment.monitoring
    wanted = monitoring.alertmanager if monitoring else None
    verify(lambda: alertmanager.prometheus_sends_alerts(prometheus_target.service, wanted))
