"""Chaos on systemd units of the guest, through SSH only, declared as a user declares them:
systemd's Restart= brings a killed unit back and opsproof times it (a unit that does not come
back fails the experiment, named); freeze and thaw; memory exhaustion OOM-kills inside the
unit's cgroup and MemoryMax goes back to its prior value; nothing is left on the guest (no
dead-man timer either: conftest's ``guest_left_as_found`` lists every ``opsproof-*`` unit after
each test)."""

from pathlib import Path

from opsproof.faults.experiment import run_experiment
from opsproof.faults.feasibility import plan_problems
from opsproof.testhost.machine import GuestState
from opsproof.transport.ssh import SshSession
from opsproof.transport.systemctl import read_unit
from tests.testhost.units import (
    RESTART_SEC,
    chaos_run,
    config_text,
    experiment,
    unit_of_our_own,
)

RECOVERY = "recovery: {within: 30s, consecutive: 2, interval: 100ms}\n"


def _shown(root: SshSession, script: str) -> list[str]:
    """Several reads in one round trip, one line each."""
    done = root.run(["sh", "-c", script])
    assert done.ok, done.stderr
    return done.text().splitlines()


def test_a_unit_of_our_own_killed_is_brought_back_by_systemd_and_timed(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    with unit_of_our_own(root_session, "opsproof-ticker", restart="on-failure") as unit:
        services = f"ticker:\n  kind: process\n  runtime: {{systemd: {{unit: {unit}, host: vm}}}}\n"
        plan = (
            f"may_hit: [ticker]\nsteady_state: [ticker]\n{RECOVERY}experiments:\n"
            "  - name: ticker killed\n    fault: {action: kill, service: ticker}\n"
            "    deadline: 90s\n"
        )
        config = tmp_path / "opsproof.yaml"
        config.write_text(config_text(guest, services, plan))
        run, environment = chaos_run(config, tmp_path)
        before = read_unit(root_session, unit)

        result = run_experiment(run, experiment(environment))

        after = read_unit(root_session, unit)
    assert result.verdict == "passed", result.reason
    took = result.figures["supervisor.systemd_restart_s"].value
    # RestartSec= plus the start, on systemd's clock
    assert isinstance(took, float) and RESTART_SEC <= took < RESTART_SEC + 9.0
    assert result.restored_by == "supervisor" and "brought it back by itself" in result.reason
    assert after.restarts == before.restarts + 1 and after.main_pid != before.main_pid
    assert not run.ledger.open_faults()


def test_a_unit_that_does_not_restart_fails_the_experiment_naming_it(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    with unit_of_our_own(root_session, "opsproof-fragile", restart="no") as unit:
        services = (
            f"fragile:\n  kind: process\n  runtime: {{systemd: {{unit: {unit}, host: vm}}}}\n"
        )
        plan = (
            f"may_hit: [fragile]\nsteady_state: [fragile]\n{RECOVERY}experiments:\n"
            "  - name: fragile killed\n    fault: {action: kill, service: fragile}\n"
        )
        config = tmp_path / "opsproof.yaml"
        config.write_text(config_text(guest, services, plan))
        run, environment = chaos_run(config, tmp_path)

        result = run_experiment(run, experiment(environment))

        running_again = read_unit(root_session, unit).running
    assert result.verdict == "failed"
    assert f"{unit} (Restart=no): systemd does not restart it after SIGKILL" in result.reason
    assert result.figures["supervisor.restarted_by_systemd"].value is False
    assert running_again, "the revert left the unit down"
    assert not run.ledger.open_faults()


def test_redis_frozen_answers_nothing_and_is_thawed(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    plan = (
        f"may_hit: [cache]\nsteady_state: [cache]\n{RECOVERY}experiments:\n"
        "  - name: redis frozen\n    fault: {action: pause, service: cache}\n"
        "    duration: 5s\n"  # past the probe's 2 s deadline: a 2 s freeze was once only slow
    )
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, "", plan))
    run, environment = chaos_run(config, tmp_path)

    result = run_experiment(run, experiment(environment))

    assert result.verdict == "passed", result.reason
    assert result.figures["fault.state_now"].value == "active/running (frozen)"
    assert result.outage_s is not None and result.outage_s > 0
    assert read_unit(root_session, "redis-server.service").freezer_state == "running"


def test_redis_out_of_memory_in_its_own_cgroup_and_memory_max_put_back(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    unit = "redis-server.service"
    drop_in = f"/run/systemd/system.control/{unit}.d/50-MemoryMax.conf"
    read = f"systemctl show -P MemoryMax {unit}; test -e {drop_in} && echo left || echo gone"
    [prior, _] = _shown(root_session, read)
    plan = (
        f"may_hit: [cache]\nsteady_state: [cache]\n{RECOVERY}experiments:\n"
        "  - name: redis out of memory\n"
        "    fault: {action: memory, service: cache, limit: 32MiB, victim: service}\n"
        "    duration: 1s\n    deadline: 90s\n"
    )
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, "", plan))
    run, environment = chaos_run(config, tmp_path)

    result = run_experiment(run, experiment(environment))

    assert result.verdict == "passed", result.reason
    kills = result.figures["fault.oom_kills_in_slice"].value
    assert isinstance(kills, int) and kills >= 1
    [now, drop_in_now] = _shown(root_session, read)
    assert now == prior
    assert drop_in_now == "gone", "the runtime drop-in was left"
    assert read_unit(root_session, unit).running


def test_a_stopped_unit_is_started_by_the_revert(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    with unit_of_our_own(root_session, "opsproof-stopped", restart="no") as unit:
        services = (
            f"stopped:\n  kind: process\n  runtime: {{systemd: {{unit: {unit}, host: vm}}}}\n"
        )
        plan = (
            f"may_hit: [stopped]\nsteady_state: [stopped]\n{RECOVERY}experiments:\n"
            "  - name: stopped\n    fault: {action: stop, service: stopped}\n"
        )
        config = tmp_path / "opsproof.yaml"
        config.write_text(config_text(guest, services, plan))
        run, environment = chaos_run(config, tmp_path)

        result = run_experiment(run, experiment(environment))

        state = read_unit(root_session, unit)
    assert result.verdict == "passed", result.reason
    assert result.figures["fault.state_now"].value == "inactive/dead (running)"
    assert result.restored_by == "revert" and state.running


def test_redis_under_a_cpu_quota_is_throttled_and_the_quota_put_back(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    unit = "redis-server.service"
    drop_in = f"/run/systemd/system.control/{unit}.d/50-CPUQuota.conf"
    read = (
        f"systemctl show -P CPUQuotaPerSecUSec {unit}; test -e {drop_in} && echo left || "
        f"echo gone; cat /sys/fs/cgroup$(systemctl show -P ControlGroup {unit})/cgroup.procs"
    )
    [prior, _, *_] = _shown(root_session, read)
    plan = (
        f"may_hit: [cache]\nsteady_state: [cache]\n{RECOVERY}experiments:\n"
        "  - name: redis starved of CPU\n"
        "    fault: {action: cpu, service: cache, cpus: 0.2, workers: 2}\n"
        "    duration: 2s\n"
    )
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, "", plan))
    run, environment = chaos_run(config, tmp_path)

    result = run_experiment(run, experiment(environment))

    assert result.verdict == "passed", result.reason
    periods = result.figures["fault.throttled_periods"].value
    assert isinstance(periods, int) and periods > 0
    [now, drop_in_now, *members] = _shown(root_session, read)
    assert now == prior
    assert drop_in_now == "gone", "the runtime drop-in was left"
    assert len(members) == 1, f"stressors left in the unit's cgroup: {members}"


def test_a_unit_the_host_does_not_know_is_refused_before_the_run(
    guest: GuestState, tmp_path: Path
) -> None:
    services = "ghost:\n  kind: process\n  runtime: {systemd: {unit: no-such.service, host: vm}}\n"
    plan = (
        "may_hit: [ghost]\nexperiments:\n"
        "  - name: ghost killed\n    fault: {action: kill, service: ghost}\n"
    )
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, services, plan))
    _, environment = chaos_run(config, tmp_path)

    [problem] = plan_problems("guest", environment, tmp_path)

    assert problem.path == ("services", "ghost", "runtime", "systemd", "unit")
    assert "no-such.service, which ssh://" in problem.message
    assert "does not know (not-found)" in problem.message
