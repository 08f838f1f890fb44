"""The systemd runtime on the guest's redis-server.service: what systemd itself does when the
unit is killed, frozen, stopped and started, seen from outside through the forwarded port."""

import socket
from collections.abc import Iterator

import pytest

from opsproof.errors import StackError
from opsproof.runtimes.base import Runtime
from opsproof.runtimes.systemd import SystemdRuntime
from opsproof.support.waiting import poll
from opsproof.testhost.machine import GuestState
from opsproof.transport.ssh import SshSession

UNIT = "redis-server.service"


@pytest.fixture
def runtime(root_session: SshSession) -> Iterator[SystemdRuntime]:
    """The unit, thawed and started again afterwards in one round trip (a stopped unit has
    nothing to thaw)."""
    yield SystemdRuntime(root_session, UNIT)
    back = root_session.run(
        ["sh", "-c", f"systemctl thaw {UNIT}; systemctl start {UNIT}"], timeout=60
    )
    assert back.ok, back.stderr


def _ping(guest: GuestState) -> bool:
    """One PING through the forwarded port, answered within 3 s (no client retries)."""
    try:
        with socket.create_connection(("127.0.0.1", guest.ports["redis"]), timeout=3) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def test_it_is_a_runtime_with_the_units_cgroup_as_its_processes(runtime: SystemdRuntime) -> None:
    contract: Runtime = runtime
    used = contract.resources()

    assert contract.id.endswith(f"/{UNIT}")
    assert runtime.state().main_pid in used.pids
    assert used.rss_bytes > 1 << 20 and used.cpu_seconds > 0


def test_a_kill_is_undone_by_systemds_own_restart_policy(runtime: SystemdRuntime) -> None:
    before = runtime.state()
    runtime.kill()

    back, after = poll(
        runtime.state, lambda s: s.running and s.main_pid != before.main_pid, timeout=60
    )

    assert back, after
    assert after.restarts == before.restarts + 1 and after.restart_policy == "always"


def test_freeze_holds_the_socket_but_answers_nothing_until_thawed(
    runtime: SystemdRuntime, guest: GuestState
) -> None:
    runtime.pause()
    try:
        assert runtime.state().freezer_state == "frozen"
        assert not _ping(guest), "a frozen redis answered"
    finally:
        runtime.resume()

    assert runtime.state().freezer_state == "running"
    assert _ping(guest)


def test_stop_empties_the_cgroup_and_start_brings_it_back(
    runtime: SystemdRuntime, guest: GuestState
) -> None:
    runtime.stop(60)
    assert runtime.find() == [] and runtime.state().active_state == "inactive"
    assert not _ping(guest)

    runtime.start(60)

    assert runtime.state().running and _ping(guest)


def test_an_action_systemd_refuses_is_one_line(root_session: SshSession) -> None:
    with pytest.raises(StackError, match=r"no-such\.service") as refused:
        SystemdRuntime(root_session, "no-such.service").stop(10)

    assert "\n" not in str(refused.value)
