"""Live checks against the session stack's Alertmanager and Prometheus: receivers valid (none
drops alerts), reachable, and fed by Prometheus; each check fails naming what is wrong."""

from collections.abc import Callable
from pathlib import Path

from opsproof.config.models import AlertmanagerConfig, PrometheusService
from opsproof.probes.alertmanager import prometheus_sends_alerts, receivers_valid
from opsproof.runtimes.launched import StackState
from opsproof.support.ports import free_ports

from .conftest import SuiteRun, WriteConfig, alertmanager_config

BLACKHOLE = """\
route: {receiver: opsproof, routes: [{matchers: ['severity="info"'], receiver: blackhole}]}
receivers:
  - name: opsproof
    webhook_configs: [{url: "http://127.0.0.1:9/"}]
  - name: blackhole
"""


def am(url: str, receivers: list[str] | None = None) -> AlertmanagerConfig:
    return AlertmanagerConfig(url=url, receivers=receivers or [], timeout=2)


def test_the_stack_alertmanager_has_valid_receivers(reference_stack: StackState) -> None:
    seen = receivers_valid(am(reference_stack.values["alertmanager.url"], ["opsproof"]))
    assert seen.ok, seen.reason
    assert seen.reason.endswith("receivers valid (opsproof: webhook)")


def test_a_missing_receiver_and_a_black_hole_are_named(reference_stack: StackState) -> None:
    url = reference_stack.values["alertmanager.url"]
    missing = receivers_valid(am(url, ["pager"]))
    assert not missing.ok
    assert "expected receiver pager is not configured (receivers: opsproof)" in missing.reason
    with alertmanager_config(reference_stack, BLACKHOLE):
        holed = receivers_valid(am(url))
    assert not holed.ok
    assert "receiver blackhole has no integration: alerts routed to it are dropped" in holed.reason
    assert holed.figures["receivers_without_integration"].value == 1


def test_an_unreachable_alertmanager_fails() -> None:
    seen = receivers_valid(am(f"http://127.0.0.1:{free_ports(1)[0]}"))
    assert not seen.ok and "not reachable" in seen.reason and "connection refused" in seen.reason


def test_prometheus_sends_to_the_configured_alertmanager_only(reference_stack: StackState) -> None:
    prometheus = PrometheusService(kind="prometheus", url=reference_stack.values["prometheus.url"])
    right = prometheus_sends_alerts(prometheus, am(reference_stack.values["alertmanager.url"]))
    assert right.ok, right.reason
    other = f"127.0.0.1:{free_ports(1)[0]}"
    wrong = prometheus_sends_alerts(prometheus, am(f"http://{other}"))
    assert not wrong.ok and f"not to the configured {other}" in wrong.reason


GATE_MONITORING = """\
prometheus: prometheus
config_file: ${{stack.prometheus.config_file}}
rule_files: ["${{stack.monitoring.rules}}", "{broken}"]
alertmanager: {{url: "${{stack.alertmanager.url}}", receivers: [opsproof]}}
"""


def test_the_gate_reports_broken_rules_and_unwatched_services_as_items(
    reference_stack: StackState,
    write_config: WriteConfig,
    run_suite: Callable[..., SuiteRun],
    tmp_path: Path,
) -> None:
    broken = tmp_path / "team.rules.yml"
    broken.write_text(
        "groups:\n  - name: team\n    rules:\n      - alert: X\n        expr: up ==\n"
    )
    services = (
        "redis: {kind: redis, url: '${stack.redis.url}'}\n"
        "cache: {kind: redis, url: '${stack.redis.url}'}\n"
        "prometheus: {kind: prometheus, url: '${stack.prometheus.url}'}\n"
    )
    config = write_config(monitoring=GATE_MONITORING.format(broken=broken), services=services)

    done = run_suite("checks", config, "-k", "monitoring")

    assert done.returncode == 1, done.output
    rules = done.check(f"test_alert_rules_valid[promtool check rules {broken}]")
    assert rules["verdict"] == "failed"
    assert f"{broken}:5:" in rules["reason"]
    assert done.check("reference.rules.yml]")["verdict"] == "passed"
    cache = done.check("test_service_has_down_alert[cache]")
    assert cache["verdict"] == "failed"
    assert "cache is not scraped: no job cache in the Prometheus config" in cache["reason"]
    assert done.check("test_service_has_down_alert[redis]")["verdict"] == "passed"
    for passed in ("test_prometheus_config_valid", "test_alertmanager_receivers_valid"):
        assert done.check(passed)["verdict"] == "passed", done.check(passed)
    assert done.check("test_prometheus_sends_alerts")["verdict"] == "passed"
