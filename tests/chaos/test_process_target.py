"""A kind: process service in chaos on the real reference stack: a fault target like any other,
and part of the steady state (alive and its health command), before and after the fault."""

from collections.abc import Callable
from pathlib import Path

from opsproof.config.models import ProcessService
from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.runtimes.launched import StackState
from opsproof.workers import runtime_of

WORKER = """\
worker:
  kind: process
  runtime: {process: {component: worker}}
  health:
    command: [redis-cli, -u, "${stack.redis.url}", GET, "worker:heartbeat"]
    expect_output: '"pid"'
"""

PLAN = """\
may_hit: [worker]
steady_state: [api, worker]
recovery: {within: 20s, consecutive: 3}
experiments:
  - name: worker killed, jobs still accepted
    fault: {action: kill, service: worker}
    expect:
      - service: api
        request: {method: POST, path: /api/jobs, json: {dsl: "size 8 8"}}
        expect: {status: 202}
        within: 1s
"""


def test_a_killed_worker_is_judged_by_its_own_probes_until_it_is_back(
    healthy_stack: StackState,
    write_config: Callable[..., Path],
    chaos_run_for: Callable[[Path], ChaosRun],
    stack_dir: Path,
) -> None:
    run = chaos_run_for(write_config(PLAN, extra_services=WORKER))
    assert run.environment.chaos_plan is not None
    before = healthy_stack.components["worker"].pid
    result = run_experiment(run, run.environment.chaos_plan.experiments[0])
    assert result.verdict == "passed", result.reason
    assert result.target == "process://worker"
    assert result.figures["fault.pids_now"].value == 0
    # the worker's own probes were down, and passed again once it was started and beating
    assert result.outage_s is not None and result.outage_s > 0
    assert result.recovery_s is not None and result.recovery_s <= 20
    after = StackState.load(stack_dir)
    assert after is not None and after.components["worker"].pid != before


def test_a_paused_worker_breaks_the_steady_state_and_nothing_is_injected(
    healthy_stack: StackState,
    write_config: Callable[..., Path],
    chaos_run_for: Callable[[Path], ChaosRun],
    stack_dir: Path,
) -> None:
    run = chaos_run_for(write_config(PLAN, extra_services=WORKER))
    assert run.environment.chaos_plan is not None
    worker = run.environment.services["worker"]
    assert isinstance(worker, ProcessService)
    runtime = runtime_of("worker", worker.runtime, stack_dir)
    runtime.pause()
    try:
        result = run_experiment(run, run.environment.chaos_plan.experiments[0])
    finally:
        runtime.resume()
    assert result.verdict == "not_injected"
    assert "process://worker: every process is stopped (paused)" in result.reason
