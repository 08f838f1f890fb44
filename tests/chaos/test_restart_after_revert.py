"""restart_after_revert on the real reference stack: Redis is killed and comes back; the
reference worker reconnects by itself and is left alone, a worker that does not reconnect is
restarted through its runtime, ledgered, and the restart is reported as a finding."""

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.faults.ledger import Injection, Ledger, Reversal, ledger_path
from opsproof.runtimes.launched import StackState

NAIVE_WORKER = Path(__file__).resolve().parents[1] / "workers" / "naive_worker.py"
STALE = "import os, sys, time; sys.exit(time.time() - os.path.getmtime(sys.argv[1]) > 1)"

PLAN = """\
may_hit: [api, redis, postgres, worker, naive]
steady_state: [api, redis, postgres]
recovery: {{within: 30s, consecutive: 3}}
experiments:
  - name: redis killed, its dependants back
    fault: {{action: kill, service: redis}}
    restart_after_revert: [worker, naive]
    restart_grace: 10s
    expect:
      - service: api
        request: {{method: GET, path: /health/deep}}
        expect: {{status: 503, json: {{failed: [redis]}}}}
        within: 1s
"""

SERVICES = """\
worker:
  kind: process
  runtime: {{process: {{component: worker}}}}
  health:
    command: [redis-cli, -u, "${{stack.redis.url}}", GET, "worker:heartbeat"]
    expect_output: '"pid"'
naive:
  kind: process
  runtime:
    process: {{match: "{marker}", start: {start}}}
  health: {{command: {health}, timeout: 2s}}
"""


@pytest.fixture
def naive_worker(healthy_stack: StackState, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """A worker of the test's own that never reconnects to Redis; its marker and start command."""
    marker = f"opsproof-naive-{uuid.uuid4().hex[:8]}"
    heartbeat = tmp_path / "naive.heartbeat"
    start = [sys.executable, str(NAIVE_WORKER), healthy_stack.values["redis.url"], str(heartbeat)]
    start.append(marker)
    first = subprocess.Popen(start, start_new_session=True, stdout=subprocess.DEVNULL)
    yield marker, start
    first.kill()
    first.wait(5)
    for proc in psutil.process_iter(["cmdline"]):
        if marker in (proc.info["cmdline"] or []):
            proc.kill()


def test_a_dependant_that_does_not_reconnect_is_restarted_and_reported(
    healthy_stack: StackState,
    naive_worker: tuple[str, list[str]],
    write_config: Callable[..., Path],
    chaos_run_for: Callable[[Path], ChaosRun],
    stack_dir: Path,
) -> None:
    marker, start = naive_worker
    heartbeat = start[3]
    health = [sys.executable, "-c", STALE, heartbeat]
    services = SERVICES.format(marker=marker, start=_flow(start), health=_flow(health))
    run = chaos_run_for(write_config(PLAN.format(), extra_services=services))
    worker_pids = healthy_stack.components["worker"].pid
    naive_before = _pids(marker)
    assert naive_before, "the naive worker did not start"
    assert run.environment.chaos_plan is not None
    result = run_experiment(run, run.environment.chaos_plan.experiments[0])

    assert result.verdict == "passed", result.reason
    assert result.figures["restarted_after_revert"].value == "naive", result.reason
    assert "finding: naive did not recover by itself within 10 s of the revert" in result.reason
    assert "was restarted through its runtime (restart_after_revert)" in result.reason
    assert "worker_recovered_alone_s" in result.figures
    assert "naive_healthy_after_restart_s" in result.figures
    naive_after = _pids(marker)
    assert naive_after and not set(naive_after) & set(naive_before)
    state = StackState.load(stack_dir)
    assert state is not None and state.components["worker"].pid == worker_pids  # left alone
    records = Ledger(ledger_path(stack_dir)).records()
    restart = [r for r in records if isinstance(r, Injection) and "naive" in r.target]
    assert [r.fault for r in restart] == ["restart after revert of process://naive"]
    closed = [r for r in records if isinstance(r, Reversal) and r.id == restart[0].id]
    assert closed and not closed[-1].problems


def _pids(marker: str) -> list[int]:
    return [
        proc.pid
        for proc in psutil.process_iter(["cmdline", "status"])
        if marker in (proc.info["cmdline"] or []) and proc.info["status"] != psutil.STATUS_ZOMBIE
    ]


def _flow(argv: list[str]) -> str:
    """A YAML flow list of quoted words."""
    return "[" + ", ".join(f"'{word}'" for word in argv) + "]"


def test_a_dependant_still_unhealthy_after_its_restart_fails_the_experiment(
    healthy_stack: StackState,
    naive_worker: tuple[str, list[str]],
    write_config: Callable[..., Path],
    chaos_run_for: Callable[[Path], ChaosRun],
) -> None:
    marker, start = naive_worker
    never = ["sh", "-c", "echo no heartbeat; exit 1"]
    services = SERVICES.format(marker=marker, start=_flow(start), health=_flow(never))
    plan = PLAN.format().replace("within: 30s", "within: 12s").replace("[worker, naive]", "[naive]")
    run = chaos_run_for(write_config(plan, extra_services=services))
    assert run.environment.chaos_plan is not None
    result = run_experiment(run, run.environment.chaos_plan.experiments[0])

    assert result.verdict == "failed", result.reason
    assert result.figures["restarted_after_revert"].value == "naive", result.reason
    assert "naive did not recover by itself" in result.reason
    assert "nor within 12 s of the revert after a restart" in result.reason
    assert "no heartbeat" in result.reason
