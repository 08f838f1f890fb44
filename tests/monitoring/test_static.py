"""Static checks with the real promtool and amtool: a broken file is named with its line, and a
service without a down-alert fails coverage naming the service."""

import textwrap
from pathlib import Path

import pytest

from opsproof.monitoring import static
from opsproof.monitoring.coverage import DownAlertTarget, down_alert
from opsproof.monitoring.rules import AlertRule, rules_in_files, scrape_jobs
from tests.project import PROJECT_ROOT

FIXTURES = PROJECT_ROOT / "fixtures" / "monitoring"

GOOD_RULES = """\
groups:
  - name: g
    rules:
      - alert: ServiceDown
        expr: up == 0
        for: 1m
        labels: {severity: critical}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def test_shipped_rules_and_their_unit_tests_pass() -> None:
    rules = FIXTURES / "rules" / "reference.rules.yml"
    assert static.rule_file_valid(rules).ok
    tested = static.rule_tests_pass(FIXTURES / "tests" / "reference.rules.test.yml")
    assert tested.ok, tested.reason


@pytest.mark.parametrize(
    ("replace", "by", "where", "says"),
    [
        ("up == 0", "up == (0", ":5:15: ", "unclosed left parenthesis"),
        ("for: 1m", "fro: 1m", ":6: ", "field fro not found"),
        (
            "labels: {severity: critical}",
            "labels:\n          severity: critical\n         team: ops",
            ":9:10: ",  # Go's YAML parser says line 3, where the broken block starts
            "expected <block end>",
        ),
    ],
    ids=["bad expression", "unknown field", "yaml indentation"],
)
def test_a_broken_rule_file_is_named_with_its_line(
    tmp_path: Path, replace: str, by: str, where: str, says: str
) -> None:
    path = write(tmp_path, "rules.yml", GOOD_RULES.replace(replace, by))

    seen = static.rule_file_valid(path)

    assert not seen.ok
    assert f"{path}{where}" in seen.reason, seen.reason
    assert says in seen.reason
    assert seen.figures["problems"].value == 1


def test_a_prometheus_config_names_the_rule_file_that_breaks_it(tmp_path: Path) -> None:
    write(tmp_path, "rules.yml", GOOD_RULES.replace("up == 0", "up == (0"))
    config = write(tmp_path, "prometheus.yml", "rule_files: [rules.yml]\n")

    seen = static.prometheus_config_valid(config)

    assert not seen.ok
    assert f"{tmp_path / 'rules.yml'}:5:15: " in seen.reason, seen.reason


def test_a_failing_rule_unit_test_is_reported_in_promtool_words(tmp_path: Path) -> None:
    write(tmp_path, "rules.yml", GOOD_RULES)
    unit = write(
        tmp_path,
        "rules.test.yml",
        """\
        rule_files: [rules.yml]
        tests:
          - interval: 1m
            input_series:
              - {series: 'up{job="api"}', values: '0x5'}
            alert_rule_test:
              - eval_time: 3m
                alertname: ServiceDown
                exp_alerts: [{exp_labels: {job: api, severity: page}}]
        """,
    )

    seen = static.rule_tests_pass(unit)

    assert not seen.ok
    assert "alertname: ServiceDown" in seen.reason
    assert 'severity="page"' in seen.reason and 'severity="critical"' in seen.reason


def test_amtool_names_an_undefined_receiver(tmp_path: Path) -> None:
    config = write(
        tmp_path, "alertmanager.yml", "route: {receiver: pager}\nreceivers: [{name: x}]\n"
    )

    seen = static.alertmanager_config_valid(config)

    assert not seen.ok
    assert 'undefined receiver "pager"' in seen.reason


def test_a_missing_file_fails_saying_so(tmp_path: Path) -> None:
    seen = static.rule_file_valid(tmp_path / "nowhere.yml")
    assert not seen.ok and seen.reason.endswith("nowhere.yml: no such file")


def rule(name: str, expr: str) -> AlertRule:
    return AlertRule(name, expr, 60.0, {}, "rules.yml (group g)")


def target(service: str, kind: str = "redis", jobs: list[str] | None = None) -> DownAlertTarget:
    return DownAlertTarget(service, kind, jobs or [service], None)


def test_a_service_without_a_down_alert_fails_naming_it() -> None:
    rules = [rule("HighErrorRate", 'rate(http_requests_total{status=~"5.."}[5m]) > 0.1')]

    seen = down_alert(target("cache"), rules, None)

    assert not seen.ok
    assert seen.reason.startswith("cache down-alert: no alert fires when cache is down")
    assert "monitoring.down_alerts.cache" in seen.reason
    assert 'redis_up{job="cache"} == 0' in seen.reason


@pytest.mark.parametrize(
    ("expr", "covered"),
    [
        ("up == 0", True),
        ('up{job="cache"} == 0', True),
        ('up{job=~"ca.+"} == 0', True),
        ('up{job=~"ca"} == 0', False),  # anchored, as Prometheus does
        ('up{job!="cache"} == 0', False),
        ('redis_up{job="cache", instance="a"} == 0', True),
        ('absent(redis_up{job="cache"})', True),
        ('pg_up{job="cache"} == 0', False),  # a PostgreSQL metric for a Redis service
        ('backup_up{job="cache"} == 0', False),
        ('sum(x{job="up"}) > 0', False),
    ],
)
def test_which_expressions_cover_a_redis_service(expr: str, covered: bool) -> None:
    assert down_alert(target("cache"), [rule("A", expr)], None).ok is covered


def test_an_alert_on_an_unscraped_job_does_not_cover(tmp_path: Path) -> None:
    config = write(tmp_path, "prometheus.yml", "scrape_configs: [{job_name: node}]\n")

    seen = down_alert(target("cache"), [rule("ServiceDown", "up == 0")], scrape_jobs(config))

    assert not seen.ok
    assert "cache is not scraped: no job cache in the Prometheus config (jobs: node)" in seen.reason
    assert "monitoring.scrape_jobs.cache" in seen.reason


def test_a_named_alert_must_exist_and_prometheus_needs_one_named() -> None:
    named = DownAlertTarget("cache", "redis", ["cache"], "CacheGone")
    seen = down_alert(named, [rule("ServiceDown", "up == 0")], None)
    assert not seen.ok and "names CacheGone, which is not among the rules (ServiceDown)" in (
        seen.reason
    )
    assert down_alert(named, [rule("CacheGone", "vector(1)")], None).ok
    alone = down_alert(target("prom", kind="prometheus"), [rule("ServiceDown", "up == 0")], None)
    assert not alone.ok and "cannot be covered by its own alerts" in alone.reason


def test_the_shipped_rules_cover_every_reference_service() -> None:
    rules = rules_in_files([FIXTURES / "rules" / "reference.rules.yml"])
    for service, kind, jobs in [
        ("api", "http", ["api"]),
        ("redis", "redis", ["redis"]),
        ("postgres", "postgres", ["postgres"]),
        ("host", "host", ["node"]),
    ]:
        seen = down_alert(DownAlertTarget(service, kind, jobs, None), rules, None)
        assert seen.ok, seen.reason
    redis = down_alert(target("redis"), rules, None)
    assert "RedisDown (redis_up == 0, for 2s)" in redis.reason
