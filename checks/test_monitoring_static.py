"""Monitoring as code is checked like code: the Prometheus config, every alert rule file and the
rule unit tests with promtool, the Alertmanager config with amtool, and a down-alert for every
service. A problem names its file and line, or the service left unwatched."""

from pathlib import Path

import pytest

from opsproof.config.loader import LoadedEnvironment
from opsproof.monitoring import static
from opsproof.monitoring.coverage import DownAlertTarget, service_covered
from opsproof.monitoring.targets import parametrize
from opsproof.plugin import CONTEXT_KEY
from opsproof.targets import Target
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.16")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, metafunc.config.stash[CONTEXT_KEY].load)


def test_prometheus_config_valid(prometheus_config: Target[Path], verify: Verifier) -> None:
    verify(lambda: static.prometheus_config_valid(prometheus_config.service))


def test_alert_rules_valid(rule_file: Target[Path], verify: Verifier) -> None:
    verify(lambda: static.rule_file_valid(rule_file.service))


def test_alert_rule_unit_tests_pass(rule_test_file: Target[Path], verify: Verifier) -> None:
    verify(lambda: static.rule_tests_pass(rule_test_file.service))


def test_alertmanager_config_valid(alertmanager_config: Target[Path], verify: Verifier) -> None:
    verify(lambda: static.alertmanager_config_valid(alertmanager_config.service))


def test_service_has_down_alert(
    down_alert_target: Target[DownAlertTarget],
    ops_environment: LoadedEnvironment,
    verify: Verifier,
) -> None:
    verify(lambda: service_covered(ops_environment.environment, down_alert_target.service))
