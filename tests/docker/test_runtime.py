"""The docker runtime on a real container: every operation's effect is observed outside the
engine's own word too (host processes with psutil, the container's cgroup files)."""

import subprocess
import time
from pathlib import Path

import psutil
import pytest
from docker.models.containers import Container

from opsproof.runtimes.docker import DockerRuntime
from opsproof.support.waiting import poll

CGROUPS = Path("/sys/fs/cgroup")


def cgroup(container: Container, controller: str, name: str) -> str:
    """A cgroup v1 file of the container (the engine's cgroupfs driver: ``/docker/<id>``)."""
    return (CGROUPS / controller / "docker" / container.id / name).read_text().strip()


def _commands(runtime: DockerRuntime) -> list[str]:
    found = []
    for pid in runtime.find():
        try:
            found.append(" ".join(psutil.Process(pid).cmdline()))
        except psutil.Error:  # a health check that just ended
            continue
    return found


def test_state_and_find_name_the_host_processes(
    sleeper_runtime: DockerRuntime, sleeper: Container
) -> None:
    state = sleeper_runtime.state()
    assert state.running and state.pid > 0 and state.health == "healthy"
    assert sleeper_runtime.find() == [state.pid]
    assert "time.sleep(3600)" in " ".join(psutil.Process(state.pid).cmdline())
    assert sleeper_runtime.id == f"docker://{sleeper.name}"


def test_pause_freezes_and_resume_thaws(sleeper_runtime: DockerRuntime, sleeper: Container) -> None:
    sleeper_runtime.pause()
    assert sleeper_runtime.state().status == "paused"
    assert cgroup(sleeper, "freezer", "freezer.state") == "FROZEN"
    assert sleeper_runtime.find(), "a paused container's processes are still there"
    sleeper_runtime.resume()
    sleeper_runtime.resume()  # idempotent
    assert sleeper_runtime.state().running
    assert cgroup(sleeper, "freezer", "freezer.state") == "THAWED"


def test_kill_is_not_undone_by_the_restart_policy(sleeper_runtime: DockerRuntime) -> None:
    pid = sleeper_runtime.state().pid
    sleeper_runtime.kill()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    state = sleeper_runtime.state()
    assert (state.status, state.exit_code) == ("exited", 137)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:  # the policy would restart within ~100 ms
        assert sleeper_runtime.state().status == "exited"
        time.sleep(0.1)
    assert sleeper_runtime.find() == []


def test_start_stop_restart(sleeper_runtime: DockerRuntime) -> None:
    first = sleeper_runtime.state()
    sleeper_runtime.stop(timeout=5)
    assert sleeper_runtime.state().status == "exited"
    assert not psutil.pid_exists(first.pid)
    sleeper_runtime.start(timeout=10)
    sleeper_runtime.start(timeout=10)  # idempotent
    second = sleeper_runtime.state()
    assert second.running and second.pid != first.pid and psutil.pid_exists(second.pid)
    sleeper_runtime.restart(timeout=2)
    third = sleeper_runtime.state()
    assert third.running and third.started_at != second.started_at and third.pid != second.pid


def test_exec_runs_inside_with_a_timeout(sleeper_runtime: DockerRuntime) -> None:
    done = sleeper_runtime.exec(["python3", "-c", "import os; print(os.getuid())"], timeout=10)
    assert (done.returncode, done.stdout.strip()) == (0, "65534")
    failed = sleeper_runtime.exec(["sh", "-c", "echo oops >&2; exit 3"], timeout=10)
    assert (failed.returncode, failed.stderr.strip()) == (3, "oops")
    began = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        sleeper_runtime.exec(["python3", "-c", "import time; time.sleep(60)"], timeout=1)
    assert time.monotonic() - began < 5
    assert not [c for c in _commands(sleeper_runtime) if "sleep(60)" in c], "it was killed"


def test_resources_and_limits_through_update(
    sleeper_runtime: DockerRuntime, sleeper: Container
) -> None:
    main = (sleeper_runtime.state().pid,)
    # a health check's exec runs every 0.5 s: take a reading without one
    alone, before = poll(sleeper_runtime.resources, lambda r: r.pids == main, 20)
    assert alone and before.rss_bytes > 1 << 20, before
    burn = "import time\nwhile time.process_time() < 0.4: pass"
    sleeper_runtime.exec(["python3", "-c", burn], timeout=10)
    assert sleeper_runtime.resources().cpu_seconds >= before.cpu_seconds + 0.3

    original = sleeper_runtime.limits()
    sleeper_runtime.update_limits(memory_bytes=64 << 20, cpus=0.25)
    assert int(cgroup(sleeper, "memory", "memory.limit_in_bytes")) == 64 << 20
    assert cgroup(sleeper, "cpu", "cpu.cfs_quota_us") == "25000"
    assert sleeper_runtime.limits().cpus == 0.25
    throttled = sleeper_runtime.throttled_periods()
    sleeper_runtime.exec(["python3", "-c", burn], timeout=10)
    assert sleeper_runtime.throttled_periods() > throttled
    sleeper_runtime.restore_limits(original)
    restored = sleeper_runtime.limits()
    assert (restored.memory_bytes, restored.cpus) == (original.memory_bytes, original.cpus)
    assert int(cgroup(sleeper, "memory", "memory.limit_in_bytes")) == original.memory_bytes
    assert cgroup(sleeper, "cpu", "cpu.cfs_quota_us") == "-1"
