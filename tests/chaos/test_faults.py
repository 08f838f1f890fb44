"""Each fault of the catalogue on real processes: its effect is real and observed, its revert
leaves the service as it was (same cgroups, no rules, no stressors, running and healthy)."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest
import redis

from opsproof.faults import cgroups, nft
from opsproof.faults.base import Fault
from opsproof.faults.experiment import ChaosRun, plan
from opsproof.faults.transaction import injected
from opsproof.probes.result import Observation
from opsproof.runtimes.launched import StackState
from opsproof.stack.readiness import wait_healthy

WriteConfig = Callable[..., Path]
MakeRun = Callable[[Path], ChaosRun]


def fault_for(
    write_config: WriteConfig, chaos_run_for: MakeRun, fault: str
) -> tuple[ChaosRun, Fault, str]:
    run = chaos_run_for(
        write_config(
            f"may_hit: [api, redis, postgres]\nexperiments:\n  - name: it\n    fault: {fault}\n"
        )
    )
    assert run.environment.chaos_plan is not None
    planned = plan(run, run.environment.chaos_plan.experiments[0])
    return run, planned.fault, planned.fault_id


@contextmanager
def applied(
    write_config: WriteConfig, chaos_run_for: MakeRun, fault: str
) -> Iterator[tuple[Fault, Observation]]:
    """Inject for the block (with the effect observed once it is in); reverted afterwards."""
    run, the_fault, fault_id = fault_for(write_config, chaos_run_for, fault)
    with injected(the_fault, run.ledger, fault_id, "test", 30.0):
        yield the_fault, eventually(the_fault.effect, 5.0)


def eventually(check: Callable[[], Observation], timeout: float) -> Observation:
    deadline = time.monotonic() + timeout
    while not (observation := check()).ok and time.monotonic() < deadline:
        time.sleep(0.05)
    return observation


def ping(state: StackState, timeout: float = 0.5) -> str:
    client = redis.Redis.from_url(
        state.values["redis.url"], socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        client.ping()
        return "ok"
    except (redis.RedisError, OSError) as exc:
        return type(exc).__name__
    finally:
        client.close()


def deep_health(state: StackState) -> httpx.Response:
    return httpx.get(state.values["api.direct_url"] + "/health/deep", timeout=3.0, trust_env=False)


def gone(pid: int) -> bool:
    """Exited (a zombie child of this test process counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def pids(state_dir: Path, name: str) -> list[int]:
    state = StackState.load(state_dir)
    assert state is not None
    return [state.components[name].pid]


@pytest.mark.parametrize("action", ["kill", "stop", "restart", "pause"])
def test_process_fault(
    action: str,
    healthy_stack: StackState,
    stack_dir: Path,
    write_config: WriteConfig,
    chaos_run_for: MakeRun,
) -> None:
    before = pids(stack_dir, "redis")
    with applied(write_config, chaos_run_for, f"{{action: {action}, service: redis}}") as (
        _,
        effect,
    ):
        assert effect.ok, effect.reason
        seen = ping(healthy_stack)
        if action == "restart":
            assert seen == "ok" and pids(stack_dir, "redis") != before
        else:
            assert seen in ("ConnectionError", "TimeoutError"), seen
    assert ping(healthy_stack) == "ok"
    assert all(
        psutil.Process(p).status() != psutil.STATUS_STOPPED for p in pids(stack_dir, "redis")
    )


@pytest.mark.parametrize("victim", ["service", "stressor"])
def test_memory_exhaustion_of_a_service_sharing_its_cgroup(
    victim: str,
    healthy_stack: StackState,
    stack_dir: Path,
    write_config: WriteConfig,
    chaos_run_for: MakeRun,
) -> None:
    """The reference stack's api shares its memory cgroup with this runner: it is moved into a
    scope, and only a kernel that moves its charges along puts its memory under the limit
    (``test_memory_fault.py`` has a service with a cgroup of its own)."""
    api = pids(stack_dir, "api")[0]
    home = cgroups.current("memory", api)
    fault = f"{{action: memory, service: api, limit: 64MiB, victim: {victim}}}"
    with applied(write_config, chaos_run_for, fault) as (the_fault, effect):
        scope = cgroups.scope_path("memory", the_fault.name)  # type: ignore[attr-defined]
        assert cgroups.current("memory", api) != home
        if effect.figures["charge"].value == "moved, charges left behind":
            # its pages stayed charged to its old cgroup: nothing to prove, nothing stressed
            assert not effect.ok and "did not hold process://api's working set" in effect.reason
            assert cgroups.members(scope) == [api] and not gone(api)
        else:  # the kernel moved its charges: the OOM killer acted under the limit
            assert effect.ok, effect.reason
            if victim == "service":
                assert eventually(lambda: Observation(gone(api), "api", "still alive"), 3.0).ok
            else:
                assert not gone(api) and effect.figures["service_killed"].value is False
    assert not scope.exists()
    now = pids(stack_dir, "api")[0]
    assert (now != api) is (victim == "service" and effect.ok)  # an OOM-killed api restarts
    assert cgroups.current("memory", now) == home
    wait_healthy(healthy_stack, 30)


def test_cpu_saturation_throttles_the_service_scope(
    healthy_stack: StackState, stack_dir: Path, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    api = pids(stack_dir, "api")[0]
    home = cgroups.current("cpu", api)
    with applied(
        write_config, chaos_run_for, "{action: cpu, service: api, workers: 2, cpus: 0.5}"
    ) as (the_fault, effect):
        assert effect.ok, effect.reason
        scope = cgroups.scope_path("cpu", the_fault.name)  # type: ignore[attr-defined]
        stressors = [p for p in cgroups.members(scope) if p != api]
        assert cgroups.current("cpu", api) != home and stressors
    assert not scope.exists()
    assert cgroups.current("cpu", api) == home
    assert all(gone(pid) for pid in stressors)


def test_disk_fill_is_bounded_and_removed(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    data = healthy_stack.values["postgres.data_dir"]
    fault = f"{{action: disk_fill, service: postgres, path: {data}, size: 64MiB, keep_free: 0}}"
    with applied(write_config, chaos_run_for, fault) as (the_fault, effect):
        filler = the_fault.file  # type: ignore[attr-defined]
        assert effect.ok and filler.stat().st_blocks * 512 >= 64 << 20
    assert not filler.exists()


def test_disk_fill_refuses_to_leave_less_than_keep_free(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    data = healthy_stack.values["postgres.data_dir"]
    fault = f"{{action: disk_fill, service: postgres, path: {data}, size: 1MiB, keep_free: 100TiB}}"
    run, the_fault, fault_id = fault_for(write_config, chaos_run_for, fault)
    with (
        pytest.raises(Exception, match="keep_free"),
        injected(the_fault, run.ledger, fault_id, "t", 5),
    ):
        pass
    # refused before anything was written or touched
    assert all(record.id != fault_id for record in run.ledger.records())


@pytest.mark.parametrize("mode", ["blackhole", "reset", "loss", "latency"])
def test_network_fault_hits_only_the_service_to_dependency_path(
    mode: str,
    healthy_stack: StackState,
    stack_dir: Path,
    write_config: WriteConfig,
    chaos_run_for: MakeRun,
) -> None:
    api = pids(stack_dir, "api")[0]
    fault = (
        f"{{action: network, service: api, dependency: redis, mode: {mode}, latency: 120ms,"
        " loss: 0.5}"
    )
    with applied(write_config, chaos_run_for, fault) as (the_fault, effect):
        assert effect.ok, effect.reason  # the api's packets to redis hit the rules
        body = deep_health(healthy_stack).json()
        if mode in ("blackhole", "reset"):
            assert body["failed"] == ["redis"], body
        if mode == "latency":
            redis_ms = eventually(lambda: _redis_latency(healthy_stack), 5.0)
            assert redis_ms.ok, redis_ms.reason
        assert ping(healthy_stack) == "ok"  # everyone else still reaches redis
        table = the_fault.table  # type: ignore[attr-defined]
    assert nft.packets(table) == 0 and cgroups.current("net_cls", api) == "/"
    wait_healthy(healthy_stack, 30)


def _redis_latency(state: StackState) -> Observation:
    """The api's own view: PING answered, and slowly, once it reconnected through the proxy."""
    redis_view = deep_health(state).json()["dependencies"]["redis"]
    slow = redis_view["ok"] and redis_view["latency_ms"] >= 120
    return Observation(slow, "api -> redis", f"api sees redis as {redis_view}")
