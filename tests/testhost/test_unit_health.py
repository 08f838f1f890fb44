"""Runtime health of systemd units on the guest, read in one SSH round trip per unit: a unit
restarted by systemd since the previous reading fails, one over its memory budget fails, the
guest's Redis passes; open files of a root service need sudo, and say so without it."""

from pathlib import Path

from opsproof.config.models import RuntimeHealth, RuntimeSpec
from opsproof.health.baseline import Baselines
from opsproof.health.check import RuntimeHealthCheck
from opsproof.health.policy import policy_for
from opsproof.runtimes.systemd import SystemdRuntime
from opsproof.support.waiting import poll
from opsproof.transport.ssh import SshSession
from opsproof.transport.systemctl import read_unit
from tests.testhost.units import unit_of_our_own

RESTARTED = 60.0


def check(session: SshSession, unit: str, state: Path, **runtime: object) -> RuntimeHealthCheck:
    spec = RuntimeSpec.model_validate({"systemd": {"unit": unit, "host": "vm"}, **runtime})
    return RuntimeHealthCheck(
        SystemdRuntime(session, unit),
        policy_for(RuntimeHealth(), spec),
        Baselines(state, "t", unit),
    )


def test_the_guests_redis_passes_with_every_figure_read(
    root_session: SshSession, tmp_path: Path
) -> None:
    observed = check(
        root_session, "redis-server.service", tmp_path, budget={"memory": "256MiB", "cpu": "90%"}
    ).observe()

    assert observed.ok, observed.reason
    figures = observed.figures
    assert figures["oom_kills"].value == 0 and 0 < figures["memory"].value < 256
    assert figures["open_files"].value > 0 and figures["open_files_limit"].value > 0
    assert "cpu" in figures and observed.elapsed_s < 15


def test_open_files_of_a_root_service_without_sudo_are_unread_not_passed(
    session: SshSession, tmp_path: Path
) -> None:
    observed = check(session, "redis-server.service", tmp_path).observe()

    assert not observed.ok
    assert "cannot read open_files: no permission to read /proc/" in observed.reason
    assert "set ssh.sudo: true on the host" in observed.reason


def test_a_unit_restarted_by_systemd_since_the_previous_reading_fails(
    root_session: SshSession, tmp_path: Path
) -> None:
    with unit_of_our_own(root_session, "opsproof-health", restart="on-failure") as unit:
        earlier = check(root_session, unit, tmp_path)
        first = earlier.observe()
        assert first.ok, first.reason
        earlier.record()
        before = read_unit(root_session, unit)
        assert root_session.run(["kill", "-9", str(before.main_pid)]).ok
        back, after = poll(
            lambda: read_unit(root_session, unit),
            lambda state: state.running and state.restarts == before.restarts + 1,
            RESTARTED,
        )
        assert back, f"systemd did not restart {unit}: {after}"

        observed = check(root_session, unit, tmp_path).observe()

    assert not observed.ok
    assert "restarted 1 time(s) since" in observed.reason
    assert observed.figures["restarts_since_baseline"].value == 1


def test_a_unit_over_its_memory_budget_fails(root_session: SshSession, tmp_path: Path) -> None:
    with unit_of_our_own(root_session, "opsproof-health", restart="on-failure") as unit:
        observed = check(root_session, unit, tmp_path, budget={"memory": "16KiB"}).observe()

    assert not observed.ok
    assert "over its budget of 16.0 KiB" in observed.reason
