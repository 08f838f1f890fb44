"""A run observes the stack it judges and never repairs it (issue #12): with Redis killed in the
session's reference stack, the gate, the chaos suite and the DR drill fail naming Redis, and the
stack is left exactly as it was. ``stack status`` lists every component the stack runs."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import start_component
from opsproof.stack.readiness import wait_healthy
from tests.project import PROJECT_ROOT

pytestmark = pytest.mark.stack

CLI_TIMEOUT = 240.0
Status = dict[str, dict[str, Any]]
"""``opsproof stack status --json``'s components by name (plain JSON)."""
MONITORING = ("redis-exporter", "node-exporter", "alertmanager", "prometheus", "postgres-exporter")


def opsproof(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsproof.cli", *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        cwd=PROJECT_ROOT,
        check=False,
    )


def status(state_dir: Path) -> Status:
    """``opsproof stack status --json``, by component name."""
    shown = opsproof("stack", "status", "--json", "--state-dir", str(state_dir))
    return {c["name"]: c for c in json.loads(shown.stdout)["components"]}


def test_status_lists_every_component_with_url_port_and_pid(
    reference_stack: StackState, reference_stack_dir: Path
) -> None:
    components = status(reference_stack_dir)
    assert list(components) == ["redis", "postgres", "api", "worker", "nginx", *MONITORING]
    for name in MONITORING:
        component = components[name]
        assert component["url"] == f"http://127.0.0.1:{component['port']}", name
        assert psutil.pid_exists(component["pid"]), name
    assert components["prometheus"]["url"] == reference_stack.values["prometheus.url"]
    assert components["alertmanager"]["url"] == reference_stack.values["alertmanager.url"]
    text = opsproof("stack", "status", "--state-dir", str(reference_stack_dir)).stdout
    assert f"prometheus        alive pid {components['prometheus']['pid']}" in text


@contextmanager
def killed(stack: StackState, state_dir: Path, name: str) -> Iterator[Status]:
    """``name`` killed with SIGKILL, as a person would from a shell, for the block; the stack's
    status right after the kill. Started again afterwards, and the stack quiet again."""
    before = status(state_dir)
    os.kill(before[name]["pid"], signal.SIGKILL)
    with suppress(psutil.NoSuchProcess):
        psutil.Process(before[name]["pid"]).wait(10)  # reaped: the session spawned it
    after_kill = status(state_dir)
    assert not after_kill[name]["alive"]
    try:
        yield after_kill
    finally:
        start_component(state_dir, name, timeout=30)
        wait_healthy(stack, 30)
        no_critical_alert(stack.values["prometheus.url"], 30)


def no_critical_alert(prometheus: str, timeout: float) -> None:
    """Wait until RedisDown and its kin have resolved, so later gates find a quiet stack."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{prometheus}/api/v1/alerts", timeout=5, trust_env=False)
        alerts = answer.json()["data"]["alerts"]
        critical = [a for a in alerts if a["labels"].get("severity") == "critical"]
        if not critical or time.monotonic() > deadline:
            assert not critical, f"still active {timeout:g} s after the restart: {critical}"
            return
        time.sleep(0.1)


def assert_left_as_it_was(state_dir: Path, killed: Status, dead: str) -> None:
    """``dead`` still dead, every other component alive with the PID it had."""
    after = status(state_dir)
    assert not after[dead]["alive"], f"the run started {dead} again"
    assert {n: c["pid"] for n, c in after.items()} == {n: c["pid"] for n, c in killed.items()}
    assert all(c["alive"] for n, c in after.items() if n != dead)


def run(kind: str, state_dir: Path, reports: Path, *pytest_args: str) -> str:
    """``opsproof run KIND``, which must fail (exit 1); its whole output."""
    done = opsproof(
        "run", kind, "--state-dir", str(state_dir), "--reports-dir", str(reports),
        "--", "-q", *pytest_args,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cleaning it up" not in done.stderr and "\nstarting " not in done.stderr
    return done.stdout + done.stderr


def test_gate_fails_naming_redis_and_leaves_the_stack_as_it_was(
    reference_stack: StackState, reference_stack_dir: Path, tmp_path: Path
) -> None:
    with killed(reference_stack, reference_stack_dir, "redis") as stack:
        output = run("gate", reference_stack_dir, tmp_path)
        assert_left_as_it_was(reference_stack_dir, stack, "redis")

    pid = stack["redis"]["pid"]
    assert f"is not all running (dead: redis (pid {pid})): this run judges it as it is" in output
    failed = [line for line in output.splitlines() if line.startswith("FAILED ")]
    for check in ("ping", "role", "memory", "eviction_policy"):
        assert any(f"test_redis.py::test_redis_{check}[redis://" in line for line in failed)
    assert any("test_stack_component_running[redis]" in line for line in failed)
    assert f"redis (pid {pid}) is not running" in output
    assert "PING failed: connection refused" in output
    assert '"failed":["redis"]' in output  # /health/deep names it


def test_chaos_fails_every_experiment_naming_redis_and_injects_nothing(
    reference_stack: StackState, reference_stack_dir: Path, tmp_path: Path
) -> None:
    with killed(reference_stack, reference_stack_dir, "redis") as stack:
        output = run("chaos", reference_stack_dir, tmp_path)
        assert_left_as_it_was(reference_stack_dir, stack, "redis")

    assert f"not all running (redis (pid {stack['redis']['pid']}) dead)" in output
    assert " passed" not in output  # and the PIDs above: no fault touched any component


def test_dr_drill_refuses_a_dead_worker_it_would_start_again(
    reference_stack: StackState, reference_stack_dir: Path, tmp_path: Path
) -> None:
    # /health/deep does not see the worker: only the stack's own record shows it dead
    with killed(reference_stack, reference_stack_dir, "worker") as stack:
        output = run("dr", reference_stack_dir, tmp_path, "-k", "drill")
        assert_left_as_it_was(reference_stack_dir, stack, "worker")

    pid = stack["worker"]["pid"]
    assert (
        f"steady state: the reference stack is not all running (worker (pid {pid}) dead)" in output
    )
