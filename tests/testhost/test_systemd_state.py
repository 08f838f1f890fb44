"""A systemd unit's state read over SSH on the guest, and what it says after systemd's own
Restart= brings a killed unit back."""

from opsproof.probes.systemd import unit_running
from opsproof.support.waiting import poll
from opsproof.transport.ssh import SshSession
from opsproof.transport.systemctl import read_unit


def test_a_running_unit_reports_its_main_pid_and_policy(session: SshSession) -> None:
    seen = unit_running(session, "redis-server.service")

    assert seen.ok, seen.reason
    assert seen.figures["main_pid"].value not in (0, None)
    assert seen.figures["restart_policy"].value == "always"


def test_an_unknown_unit_fails_saying_so(session: SshSession) -> None:
    seen = unit_running(session, "no-such-thing.service")

    assert not seen.ok and "not-found (no such unit?)" in seen.reason


def test_a_killed_unit_comes_back_through_systemd_with_one_more_restart(
    root_session: SshSession,
) -> None:
    before = read_unit(root_session, "redis-server.service")
    assert root_session.run(["kill", "-9", str(before.main_pid)]).ok

    back, after = poll(
        lambda: read_unit(root_session, "redis-server.service"),
        lambda state: state.running and state.main_pid != before.main_pid,
        timeout=60,
    )

    assert back, f"not running again: {after}"
    assert after.restarts == before.restarts + 1
    restarted = unit_running(root_session, "redis-server.service", max_restarts=before.restarts)
    assert not restarted.ok and f"at most {before.restarts} allowed" in restarted.reason
