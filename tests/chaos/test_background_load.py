"""Load during a fault: a profile runs in the background from before the injection to after
recovery, and what its users saw in each phase is a figure and, with a limit, a verdict.

Users here ask ``/health/deep`` (503 while Redis is down) and ``/health`` (always 200), so
while Redis is killed about half their requests fail: "not all of them" (< 100%) holds and
"none" (<= 0%) does not. The users are written in config, as weighted requests or as a flow of
the environment, or (for the rest) as a Locust user class. Each experiment is a few seconds of
load; the machine is shared, so the test judges by contrast (before against during), not by
timings."""

from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from opsproof.errors import SafetyError
from opsproof.faults.experiment import ChaosRun, plan, run_experiment
from opsproof.runtimes.launched import StackState

WriteConfig = Callable[..., Path]
MakeRun = Callable[[Path], ChaosRun]

USERS = """\
from locust import FastHttpUser, constant, task


class HealthUser(FastHttpUser):
    wait_time = constant(0.1)

    @task
    def deep(self) -> None:
        self.client.get("/health/deep", name="deep")

    @task
    def shallow(self) -> None:
        self.client.get("/health", name="shallow")
"""
PROFILE = """\
vus: 2
duration: 60s
sleep: 100ms
requests:
  - {name: deep, request: {path: /health/deep}}
  - {name: shallow, request: {path: /health}}
"""
"""Longer than any experiment here: the experiment stops it. No Python: weighted requests."""
FLOW_PROFILE = "vus: 2\nduration: 60s\nsleep: 100ms\nflow: both healths\n"
"""The same users as a flow of the environment, one iteration its two steps."""
FLOW = """\
flows:
  - name: both healths
    service: api
    steps:
      - {name: deep, request: {path: /health/deep}}
      - {name: shallow, request: {path: /health}}
"""

PLAN = """\
may_hit: [redis]
steady_state: [api, redis]
recovery: {{within: 10s, consecutive: 3}}
experiments:
  - name: redis killed under load
    fault: {{action: kill, service: redis}}
    duration: 3s
    load:
      profile: {profile}
      locustfile: users.py
      before: 2s
      after: 2s
      expect:
        before: {{error_rate: "== 0", requests: ">= 5"}}
        during: {{error_rate: "{during}"}}
"""


def _run(
    write_config: WriteConfig, chaos_run_for: MakeRun, during: str, profile: str = PROFILE
) -> ChaosRun:
    config = write_config(
        PLAN.format(profile="profile.yaml", during=during),
        extra_environment="load: allowed\n" + FLOW,
    )
    (config.parent / "users.py").write_text(USERS)
    (config.parent / "profile.yaml").write_text(profile)
    return chaos_run_for(config)


def _experiment(run: ChaosRun) -> object:
    assert run.environment.chaos_plan is not None
    return run.environment.chaos_plan.experiments[0]


def test_a_generous_error_rate_during_the_fault_passes_with_figures_per_phase(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    run = _run(write_config, chaos_run_for, during="< 100%")
    result = run_experiment(run, _experiment(run))  # type: ignore[arg-type]
    assert result.verdict == "passed", result.reason
    figures = {name: figure.value for name, figure in result.figures.items()}
    assert figures["load.before.error_rate"] == 0
    assert figures["load.during.seconds"] >= 2  # type: ignore[operator]
    assert 0 < figures["load.during.error_rate"] < 1  # type: ignore[operator]
    assert figures["load.after.seconds"] >= 1  # type: ignore[operator]
    for phase in ("before", "during", "after"):
        assert figures[f"load.{phase}.requests"] > 0  # type: ignore[operator]
        assert figures[f"load.{phase}.p95_ms"] > 0  # type: ignore[operator]
    assert result.figures["load.during.error_rate"].target == "< 1"
    assert "users under load: before error_rate == 0" in result.hypothesis
    assert "; users under load: before error_rate 0.00% (== 0), before requests " in result.reason


def test_a_strict_error_rate_during_the_fault_fails_naming_phase_limit_and_actual(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    run = _run(write_config, chaos_run_for, during="<= 0%", profile=FLOW_PROFILE)
    result = run_experiment(run, _experiment(run))  # type: ignore[arg-type]
    assert result.verdict == "failed", result.reason
    assert "load during the fault: error_rate " in result.reason
    assert ", limit <= 0% (" in result.reason
    assert "load before" not in result.reason  # the baseline met its limits


def test_a_load_that_cannot_start_injects_nothing(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    """The profile names a user class the locustfile lacks: Locust's master refuses it."""
    redis_pid = healthy_stack.components["redis"].pid
    profile = (
        "scenarios:\n  users: {executor: constant-vus, vus: 2, duration: 60s, exec: NoSuchUser}\n"
    )
    run = _run(write_config, chaos_run_for, "< 100%", profile=profile)
    result = run_experiment(run, _experiment(run))  # type: ignore[arg-type]
    assert result.verdict == "not_injected", result.reason
    assert "the background load did not start" in result.reason
    assert "NoSuchUser" in result.reason
    assert psutil.pid_exists(redis_pid)  # nothing was killed


def test_load_without_permission_is_refused(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    config = write_config(PLAN.format(profile="profile.yaml", during="<= 5%"))
    (config.parent / "profile.yaml").write_text(PROFILE)
    (config.parent / "users.py").write_text(USERS)
    run = chaos_run_for(config)
    with pytest.raises(SafetyError, match=r"does not allow load .*load: allowed"):
        plan(run, _experiment(run))  # type: ignore[arg-type]


def test_a_bad_profile_is_refused_naming_both_files(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    run = _run(write_config, chaos_run_for, "<= 5%", profile="vus: 2\nduration: soon\n")
    with pytest.raises(SafetyError) as refused:
        plan(run, _experiment(run))  # type: ignore[arg-type]
    assert ".load.profile: not a usable load profile: " in str(refused.value)
    assert "profile.yaml:2:" in str(refused.value)


def test_a_phase_the_load_did_not_cover_leaves_the_experiment_inconclusive(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    """The profile ends before the fault: nothing says how users fared during it."""
    run = _run(write_config, chaos_run_for, "< 100%", profile="vus: 2\nduration: 1500ms\n")
    result = run_experiment(run, _experiment(run))  # type: ignore[arg-type]
    assert result.verdict == "inconclusive", result.reason
    assert (
        "load during the fault: no request completed in the phase's 0 whole seconds"
        in result.reason
    )
