"""Stacks of their own: stop leaves nothing behind, a dead recorded stack is replaced, a
component that cannot start is named with its log."""

import os
import signal
import time
from contextlib import suppress
from pathlib import Path

import psutil
import pytest

from opsproof.errors import StackError
from opsproof.runtimes.launched import StackState
from opsproof.stack import launcher
from opsproof.stack.launcher import stack_status, start_stack, stop_stack
from opsproof.support.processes import ComponentState, running_processes

pytestmark = pytest.mark.stack


def all_processes(state: StackState) -> list[psutil.Process]:
    groups = running_processes(list(state.components.values()))
    return [proc for procs in groups.values() for proc in procs]


def gone(proc: psutil.Process) -> bool:
    """Exited (a zombie counts: its parent may never reap it)."""
    with suppress(ChildProcessError):
        os.waitpid(proc.pid, os.WNOHANG)
    try:
        return not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_stop_leaves_no_process_and_no_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()
    state, started = start_stack(tmp_path, progress=print, monitoring=False)
    elapsed = time.monotonic() - began
    with capsys.disabled():
        print(f"\nstack start took {elapsed:.2f} s")
    assert started
    processes = all_processes(state)
    # nginx has a worker and postgres its background processes: whole groups are tracked
    assert len(processes) > len(state.components)

    stopped = stop_stack(tmp_path)

    assert sorted(stopped) == sorted(state.components)
    assert [p.pid for p in processes if not gone(p)] == []
    assert not Path(state.root).exists()
    assert not (tmp_path / "stack.json").exists()
    assert stack_status(tmp_path) is None
    assert stop_stack(tmp_path) == []


@pytest.mark.parametrize("keep_partial", [False, True], ids=["stack up", "a run"])
def test_dead_recorded_stack_is_cleaned_and_replaced(
    tmp_path: Path, eventually, keep_partial: bool
) -> None:
    """Nothing of it alive (a reboot): a stale record, replaced even by a run, which then
    judges a stack it started, as with none recorded."""
    old, _ = start_stack(tmp_path, monitoring=False)
    try:
        # the machine "crashed": every process is gone, the state file and root dir remain
        processes = all_processes(old)
        for proc in processes:
            proc.send_signal(signal.SIGKILL)
        eventually(lambda: all(gone(p) for p in processes), 10.0, "killed processes gone")
        status = stack_status(tmp_path)
        assert status is not None and not any(c.alive for c in status.components)

        new, started = start_stack(tmp_path, monitoring=False, keep_partial=keep_partial)

        assert started
        assert new.root != old.root
        assert not Path(old.root).exists()
        status = stack_status(tmp_path)
        assert status is not None and status.running
    finally:
        stop_stack(tmp_path)


def test_partly_dead_stack_is_kept_for_a_run_and_replaced_by_stack_up(tmp_path: Path) -> None:
    old, _ = start_stack(tmp_path, monitoring=False)
    try:
        redis = old.components["redis"]
        os.kill(redis.pid, signal.SIGKILL)
        psutil.Process(redis.pid).wait(10)  # our child: reaped
        said: list[str] = []

        kept, started = start_stack(
            tmp_path, monitoring=False, keep_partial=True, progress=said.append
        )

        assert not started and kept.root == old.root
        assert said == [
            f"the reference stack in {old.root} is not all running (dead: redis (pid "
            f"{redis.pid})): this run judges it as it is and restarts nothing; "
            "`opsproof stack up` replaces it with a new one"
        ]
        status = stack_status(tmp_path)
        assert status is not None
        assert [c.name for c in status.dead] == ["redis"]
        assert {c.name: c.pid for c in status.components} == {
            name: c.pid for name, c in old.components.items()
        }

        new, started = start_stack(tmp_path, monitoring=False)

        assert started and new.root != old.root
        status = stack_status(tmp_path)
        assert status is not None and status.running
    finally:
        stop_stack(tmp_path)


def test_component_that_cannot_start_is_named_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_declare, real_spawn = launcher.declare, launcher.spawn
    spawned: list[ComponentState] = []

    def broken_redis(*args, **kwargs):  # type: ignore[no-untyped-def]
        components = real_declare(*args, **kwargs)
        components["redis"].command.append("--no-such-option")
        return components

    def recording_spawn(component: ComponentState) -> None:
        real_spawn(component)
        spawned.append(component)

    monkeypatch.setattr(launcher, "declare", broken_redis)
    monkeypatch.setattr(launcher, "spawn", recording_spawn)
    with pytest.raises(StackError) as failure:
        start_stack(tmp_path, timeout=30)

    message = str(failure.value)
    assert message.startswith("redis: exited while starting")
    assert "no-such-option" in message  # the tail of redis's own log
    # what had started was stopped, and nothing is recorded or left on disk
    assert len(spawned) == 5
    assert not any(running_processes(spawned).values())
    assert not Path(spawned[0].log_file).parents[1].exists()
    assert StackState.load(tmp_path) is None
