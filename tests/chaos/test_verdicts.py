"""Verdicts are earned: a service that does not recover fails, a fault without effect and a
steady state that did not hold are inconclusive (and the latter injects nothing), and chaos
outside what the environment allows is refused."""

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from opsproof.errors import SafetyError
from opsproof.faults.experiment import ChaosRun, plan, run_experiment
from opsproof.runtimes.launched import StackState
from opsproof.support.ports import free_ports

WriteConfig = Callable[..., Path]
MakeRun = Callable[[Path], ChaosRun]

KILL_REDIS = """\
may_hit: [api, redis, postgres]
steady_state: {steady}
recovery: {{within: 10s, consecutive: 3}}
experiments:
  - name: redis killed
    fault: {{action: kill, service: redis}}
    expect:
      - service: api
        request: {{method: GET, path: /health/deep}}
        expect: {{status: 503, json: {{failed: [redis]}}}}
        within: 1s
"""


def only(run: ChaosRun) -> object:
    assert run.environment.chaos_plan is not None
    return run.environment.chaos_plan.experiments[0]


def test_kill_redis_passes_with_measured_impact_and_recovery(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    run = chaos_run_for(write_config(KILL_REDIS.format(steady="[api, redis, postgres]")))
    result = run_experiment(run, only(run))  # type: ignore[arg-type]
    assert result.verdict == "passed", result.reason
    assert result.time_to_impact_s is not None and result.time_to_impact_s <= 1.0
    assert result.recovery_s is not None and result.recovery_s <= 10.0
    assert result.figures["fault.pids_now"].value == 0


@pytest.fixture
def doomed_server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """An HTTP server whose declared start command starts something that never serves."""
    marker, port = f"opsproof-doomed-{uuid.uuid4().hex[:8]}", free_ports(1)[0]
    serve = (
        "import runpy, sys; sys.argv = ['http.server', sys.argv[1], '--bind', '127.0.0.1']; "
        "runpy.run_module('http.server', run_name='__main__')"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", serve, str(port), marker],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _listening(port):
        assert time.monotonic() < deadline, "the test's HTTP server did not start"
        time.sleep(0.05)
    yield marker, port
    server.kill()
    server.wait(5)
    for proc in psutil.process_iter(["cmdline"]):
        if marker in (proc.info["cmdline"] or []):
            proc.kill()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def test_a_service_that_does_not_recover_fails(
    doomed_server: tuple[str, int], write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    marker, port = doomed_server
    never_serves = f'["{sys.executable}", "-c", "import time; time.sleep(20)", "{marker}"]'
    service = (
        f"doomed:\n  kind: http\n  url: http://127.0.0.1:{port}\n  health: {{path: /}}\n"
        f"  runtime: {{process: {{match: {marker}, start: {never_serves}}}}}\n"
    )
    plan_yaml = (
        "may_hit: [doomed]\nsteady_state: [doomed]\n"
        "recovery: {within: 1s, consecutive: 2}\n"
        "experiments:\n  - name: doomed killed\n    fault: {action: kill, service: doomed}\n"
    )
    run = chaos_run_for(write_config(plan_yaml, extra_services=service))
    result = run_experiment(run, only(run))  # type: ignore[arg-type]
    assert result.verdict == "failed", result.reason
    assert "not recovered within 1 s" in result.reason and result.recovery_s is None


def test_a_fault_without_observable_effect_is_inconclusive(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    idle = "idle: {kind: http, url: 'http://127.0.0.1:9', health: null}\n"
    plan_yaml = (
        "may_hit: [api]\nsteady_state: [api, redis, postgres]\nexperiments:\n"
        "  - name: partition from a dependency the api never calls\n"
        "    fault: {action: network, service: api, dependency: idle, mode: blackhole}\n"
    )
    run = chaos_run_for(write_config(plan_yaml, extra_services=idle))
    result = run_experiment(run, only(run))  # type: ignore[arg-type]
    assert result.verdict == "inconclusive"
    assert result.reason.startswith("the fault had no observable effect: 0 packets")


def test_failed_steady_state_is_not_injected_and_injects_nothing(
    healthy_stack: StackState, stack_dir: Path, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    dead = f"dead: {{kind: redis, url: 'redis://127.0.0.1:{free_ports(1)[0]}/0', timeout: 0.5s}}\n"
    config = write_config(KILL_REDIS.format(steady="[api, dead]"), extra_services=dead)
    run = chaos_run_for(config)
    redis_pid = healthy_stack.components["redis"].pid
    records = len(run.ledger.records())
    result = run_experiment(run, only(run))  # type: ignore[arg-type]
    assert result.verdict == "not_injected"
    assert result.reason.startswith("steady state did not hold before injection; nothing injected")
    assert result.recovery_s is None and result.outage_s is None and result.injected_at is None
    assert len(run.ledger.records()) == records  # no ledger entry: nothing was injected
    state = StackState.load(stack_dir)
    assert state is not None and state.components["redis"].pid == redis_pid


def test_an_environment_that_did_not_opt_in_is_refused(
    write_config: WriteConfig, chaos_run_for: MakeRun, stack_dir: Path
) -> None:
    run = chaos_run_for(write_config(KILL_REDIS.format(steady="null"), chaos="forbidden"))
    with pytest.raises(SafetyError, match=r"does not allow chaos.*set environments.lab.chaos"):
        plan(run, only(run))  # type: ignore[arg-type]


def test_a_service_outside_the_allowlist_is_refused(
    write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    narrow = KILL_REDIS.format(steady="null").replace("[api, redis, postgres]", "[api]")
    run = chaos_run_for(write_config(narrow))
    with pytest.raises(SafetyError, match=r"would hit 'redis', which is not in .*may_hit \(api\)"):
        plan(run, only(run))  # type: ignore[arg-type]


def test_the_suite_refuses_a_forbidden_environment(
    write_config: WriteConfig, stack_dir: Path
) -> None:
    config = write_config(KILL_REDIS.format(steady="null"), chaos="forbidden")
    done = suite(config, stack_dir)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert "refused: environment 'lab' does not allow chaos" in done.stdout + done.stderr


def test_dry_run_prints_the_plan_and_touches_nothing(
    healthy_stack: StackState, write_config: WriteConfig, stack_dir: Path
) -> None:
    config = write_config(KILL_REDIS.format(steady="null"))
    ledger = stack_dir / "chaos" / "ledger.jsonl"
    before = ledger.read_bytes() if ledger.exists() else b""
    done = suite(config, stack_dir, "--dry-run")
    assert done.returncode == 0, done.stdout
    assert (
        "fault: SIGKILL process://redis" in done.stdout
        and "undo: start process://redis" in done.stdout
    )
    assert (ledger.read_bytes() if ledger.exists() else b"") == before
    state = StackState.load(stack_dir)
    assert (
        state is not None and state.components["redis"].pid == healthy_stack.components["redis"].pid
    )


def suite(config: Path, stack_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    chaos = Path(__file__).resolve().parents[2] / "chaos"
    return subprocess.run(
        [sys.executable, "-m", "pytest", str(chaos), "--env", "lab", "--config", str(config),
         "--stack-state-dir", str(stack_dir), "--no-evidence", "-p", "no:cacheprovider", "-rs",
         *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
