"""Detection in chaos, against the session stack's real Prometheus and Alertmanager: an alert
that fires and arrives passes with measured times, one that never fires (wrong label) fails, and
a silenced or unrouted one is reported as not delivered, with Alertmanager's reason."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from opsproof.faults.experiment import ChaosRun, Result, run_experiment
from opsproof.runtimes.launched import StackState
from opsproof.support.ports import free_ports

from .conftest import SuiteRun, WriteConfig, alertmanager_config, silence

MakeRun = Callable[[Path], ChaosRun]
QUIET_TIMEOUT = 30.0

PLAN = """\
may_hit: [redis]
steady_state: [api, redis]
recovery: {{within: 15s, consecutive: 3}}
experiments:
  - name: redis killed
    fault: {{action: kill, service: redis}}
    expect:
      - service: api
        request: {{method: GET, path: /health/deep}}
        expect: {{status: 503, json: {{failed: [redis]}}}}
        within: 1s
    alerts: [{alerts}]
"""


EXPECTED = {"RedisDown"}
"""The alerts these tests expect: one already firing makes an experiment inconclusive."""


def firing(state: StackState) -> list[str]:
    url = state.values["prometheus.url"] + "/api/v1/alerts"
    alerts = httpx.get(url, timeout=5, trust_env=False).json()["data"]["alerts"]
    return [a["labels"]["alertname"] for a in alerts if a["state"] == "firing"]


def wait_quiet(state: StackState, names: set[str] | None = None) -> None:
    """Wait until none of ``names`` (every alert when None) is firing."""
    deadline = time.monotonic() + QUIET_TIMEOUT
    while alerts := [a for a in firing(state) if names is None or a in names]:
        assert time.monotonic() < deadline, f"still firing after the test: {alerts}"
        time.sleep(0.2)


@pytest.fixture(scope="module", autouse=True)
def quiet_after_module(reference_stack: StackState, reference_stack_dir: Path) -> Iterator[None]:
    """No alert at all firing once these tests are done, so a later gate finds none. Waited
    once here, not after each test: the outages also fire HighErrorRate, whose 30 s rate window
    keeps it firing long after the outage, and no test here expects it."""
    yield
    state = StackState.load(reference_stack_dir)
    assert state is not None
    wait_quiet(state)


@pytest.fixture
def quiet(stack_dir: Path, chaos_run_for: MakeRun) -> Iterator[StackState]:
    """The stack with no expected alert firing, before and after: an alert a test leaves
    firing would make the next one inconclusive."""
    state = StackState.load(stack_dir)
    assert state is not None
    yield state
    wait_quiet(state, EXPECTED)


def run(write_config: WriteConfig, chaos_run_for: MakeRun, alerts: str) -> Result:
    chaos = chaos_run_for(write_config(PLAN.format(alerts=alerts)))
    assert chaos.environment.chaos_plan is not None
    return run_experiment(chaos, chaos.environment.chaos_plan.experiments[0])


def test_an_alert_that_fires_and_arrives_passes_with_its_detection_time(
    quiet: StackState, write_config: WriteConfig, run_suite: Callable[..., SuiteRun]
) -> None:
    alerts = "{name: RedisDown, labels: {severity: critical}, within: 20s, resolved_within: 20s}"

    done = run_suite("chaos", write_config(PLAN.format(alerts=alerts)))

    assert done.returncode == 0, done.output
    (experiment,) = done.evidence["experiments"]
    assert experiment["verdict"] == "passed"
    assert "RedisDown" in experiment["hypothesis"]
    assert 'RedisDown{severity="critical"} firing after' in experiment["reason"]
    figures = {f["name"]: f for f in done.evidence["checks"][0]["figures"]}
    fired, notified = figures["alert.RedisDown.firing_s"], figures["alert.RedisDown.notified_s"]
    # redis_up is scraped every second and RedisDown has `for: 2s`: it cannot fire sooner
    assert 2.0 <= fired["value"] <= notified["value"] <= 20
    assert notified["target"] == "<= 20"
    assert figures["time_to_detect_s"]["value"] == notified["value"]
    assert 0 < figures["alert.RedisDown.resolved_s"]["value"] <= 20
    assert experiment["time_to_impact_s"] is not None and experiment["recovery_s"] is not None


def test_an_alert_with_a_wrong_label_never_fires_and_fails(
    quiet: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    result = run(
        write_config, chaos_run_for, "{name: RedisDown, labels: {severity: page}, within: 6s}"
    )

    assert result.verdict == "failed"
    assert result.reason.startswith(
        'RedisDown{severity="page"} did not fire within 6 s of the injection; Prometheus: firing'
    ), result.reason
    assert "'severity': 'critical'" in result.reason  # what did fire, for the person reading
    assert result.figures["alert.RedisDown.firing_s"].value is None
    assert result.figures["time_to_detect_s"].value is None
    assert result.recovery_s is not None  # the fault was reverted and the service recovered


def test_a_silenced_alert_is_reported_as_not_delivered(
    quiet: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    with silence(quiet, "RedisDown") as silence_id:
        result = run(write_config, chaos_run_for, "{name: RedisDown, within: 8s}")

    assert result.verdict == "failed"
    assert "RedisDown fired after" in result.reason
    assert "but was not delivered: no notification reached the webhook" in result.reason
    assert (
        f"Alertmanager: suppressed, silenced by {silence_id} (opsproof-tests: maintenance window)"
        in result.reason
    ), result.reason
    assert result.figures["alert.RedisDown.firing_s"].value is not None
    assert result.figures["alert.RedisDown.notified_s"].value is None


UNROUTED = """\
route:
  receiver: opsproof
  group_by: [alertname, job]
  group_wait: 1s
  group_interval: 1s
  routes:
    - matchers: ['alertname="RedisDown"']
      receiver: elsewhere
receivers:
  - name: opsproof
    webhook_configs: [{{url: "{webhook}", send_resolved: true}}]
  - name: elsewhere
    webhook_configs: [{{url: "http://127.0.0.1:{closed}/"}}]
"""


def test_an_unrouted_alert_is_reported_as_not_delivered(
    quiet: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    routing = UNROUTED.format(
        webhook=quiet.values["alertmanager.webhook_url"], closed=free_ports(1)[0]
    )
    with alertmanager_config(quiet, routing):
        result = run(write_config, chaos_run_for, "{name: RedisDown, within: 8s}")

    assert result.verdict == "failed"
    assert "RedisDown fired after" in result.reason and "was not delivered" in result.reason
    assert "Alertmanager: active, routed to receivers elsewhere" in result.reason, result.reason


def test_an_alert_that_is_no_rule_fails_before_anything_is_injected(
    quiet: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    pid = quiet.components["redis"].pid

    result = run(write_config, chaos_run_for, "{name: RedisGone}")

    assert result.verdict == "failed"
    assert "has no alerting rule RedisGone (it has " in result.reason
    assert result.reason.endswith("nothing injected")
    assert result.injected_at is None
    state = StackState.load(Path(quiet.values["state_file"]).parent)
    assert state is not None and state.components["redis"].pid == pid


def test_without_a_webhook_an_alert_counts_when_it_fires(
    quiet: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    chaos = chaos_run_for(
        write_config(
            PLAN.format(alerts="{name: RedisDown, within: 15s}"),
            monitoring="prometheus: prometheus\n",
        )
    )
    assert chaos.environment.chaos_plan is not None
    result = run_experiment(chaos, chaos.environment.chaos_plan.experiments[0])

    assert result.verdict == "passed", result.reason
    fired = result.figures["alert.RedisDown.firing_s"]
    assert fired.target == "<= 15" and "alert.RedisDown.notified_s" not in result.figures
    assert result.figures["time_to_detect_s"].value == fired.value
    assert "RedisDown firing after" in result.reason and "resolved" in result.reason
