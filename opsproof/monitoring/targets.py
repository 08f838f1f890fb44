"""The monitoring gate's targets: files for promtool and amtool, services that need a
down-alert, the Alertmanager to ask. Nothing declared → one "not applicable" item, as the
plugin does for its own target fixtures."""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from opsproof.config.loader import LoadedEnvironment
from opsproof.config.models import AlertmanagerConfig, Environment, MonitoringConfig
from opsproof.evidence.conclusion import NOT_APPLICABLE, verdict_marks
from opsproof.evidence.verdict import Verdict
from opsproof.monitoring.coverage import DOWN_METRICS, DownAlertTarget
from opsproof.monitoring.rules import expand, rule_files
from opsproof.support.redact import redact_url
from opsproof.targets import Target

NAME = "monitoring"


def _files(patterns: list[str], command: str) -> list[Target[Path]]:
    """One target per matching file; a pattern matching nothing is a target that fails."""
    targets = []
    for pattern in patterns:
        found = expand([pattern]) or [Path(pattern)]
        targets += [Target(f"{command} {path}", NAME, path) for path in found]
    return targets


def _monitoring(env: Environment) -> MonitoringConfig:
    return env.monitoring or MonitoringConfig()


def prometheus_configs(env: Environment) -> list[Target[Path]]:
    path = _monitoring(env).config_file
    return [] if path is None else [Target(f"promtool check config {path}", NAME, path)]


def rule_file_targets(env: Environment) -> list[Target[Path]]:
    return _files(rule_files(_monitoring(env)), "promtool check rules")


def rule_test_targets(env: Environment) -> list[Target[Path]]:
    return _files(_monitoring(env).rule_tests, "promtool test rules")


def alertmanager_configs(env: Environment) -> list[Target[Path]]:
    alertmanager = _monitoring(env).alertmanager
    path = alertmanager.config_file if alertmanager else None
    return [] if path is None else [Target(f"amtool check-config {path}", NAME, path)]


def down_alert_targets(env: Environment) -> list[Target[DownAlertTarget]]:
    """Every service of a kind that can be covered, and any service an alert is named for."""
    if env.monitoring is None:
        return []
    monitoring = env.monitoring
    return [
        Target(
            name,
            name,
            DownAlertTarget(
                name,
                service.kind,
                monitoring.scrape_jobs.get(name, [name]),
                monitoring.down_alerts.get(name),
            ),
        )
        for name, service in env.services.items()
        if service.kind in DOWN_METRICS or name in monitoring.down_alerts
    ]


def alertmanagers(env: Environment) -> list[Target[AlertmanagerConfig]]:
    alertmanager = _monitoring(env).alertmanager
    if alertmanager is None:
        return []
    return [Target(f"alertmanager {redact_url(alertmanager.url)}", NAME, alertmanager)]


MONITORING_FIXTURES: dict[str, Callable[[Environment], Sequence[Target[Any]]]] = {
    "prometheus_config": prometheus_configs,
    "rule_file": rule_file_targets,
    "rule_test_file": rule_test_targets,
    "alertmanager_config": alertmanager_configs,
    "down_alert_target": down_alert_targets,
    "alertmanager_target": alertmanagers,
}


def parametrize(metafunc: pytest.Metafunc, load: Callable[[], LoadedEnvironment]) -> None:
    """Parametrize the monitoring fixtures a test asks for from the environment under test,
    which ``load`` gives (the plugin's session context loads it once)."""
    for fixture in metafunc.fixturenames:
        targets_of = MONITORING_FIXTURES.get(fixture)
        if targets_of is None:
            continue
        loaded = load()
        targets = targets_of(loaded.environment)
        if targets:
            metafunc.parametrize(fixture, targets, ids=[t.id for t in targets])
        else:
            reason = f"{NOT_APPLICABLE}: environment {loaded.name!r} declares nothing for {fixture}"
            marks = verdict_marks(Verdict.NOT_APPLICABLE, reason)
            metafunc.parametrize(fixture, [pytest.param(None, marks=marks, id="none")])
