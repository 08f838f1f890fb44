"""Network partitions and disk fills on the guest, through SSH only, declared as a user declares
them: a unit of our own that asks the guest's Redis every half second is cut off from it by an
nftables table of the fault's own matching the unit's cgroup (Redis itself stays reachable:
the match is narrow), and reaches it again after the revert; the runner and its watchdog
SIGKILLed mid-partition, the guest's own timer deletes the table at the deadline; a disk fill
is allocated within its bound, a fill that would break the floor is refused, and nothing is
left (conftest's ``guest_left_as_found`` lists nftables tables and fill files too)."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from opsproof.errors import SafetyError
from opsproof.faults.experiment import run_experiment
from opsproof.faults.feasibility import plan_problems
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.runner import RunRequest, pytest_command
from opsproof.testhost.machine import GuestState
from opsproof.transport.ssh import SshSession
from tests.testhost.test_unit_crash_safety import _kill_watchdog, _revert_by_hand, _wait
from tests.testhost.units import chaos_run, config_text, experiment, redis_answers, unit_of_our_own

RECOVERY = "recovery: {within: 30s, consecutive: 2, interval: 100ms}\n"
CLIENT_LOG = "/run/opsproof-client.log"
CLIENT = (
    "while :; do if timeout 2 redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; "
    f"then echo up; else echo down; fi >> {CLIENT_LOG}; sleep 0.5; done"
)
"""A client of the guest's Redis: a line per attempt, ``up`` or ``down``."""


def _client_services(unit: str) -> str:
    return f"client:\n  kind: process\n  runtime: {{systemd: {{unit: {unit}, host: vm}}}}\n"


def _partition_plan(duration: str, deadline: str = "120s") -> str:
    return (
        f"may_hit: [client]\nsteady_state: [cache]\n{RECOVERY}experiments:\n"
        "  - name: client cut off from redis\n"
        "    fault: {action: network, service: client, dependency: cache, mode: blackhole,\n"
        "            address: 127.0.0.1, port: 6379}\n"
        f"    duration: {duration}\n    deadline: {deadline}\n"
    )


def _log(root: SshSession) -> list[str]:
    done = root.run(["cat", CLIENT_LOG])
    return done.text().split() if done.ok else []


def _tables(root: SshSession) -> str:
    return root.run(["nft", "list", "tables"]).text()


def test_a_unit_cut_off_from_redis_cannot_reach_it_and_reaches_it_after_the_revert(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    root_session.run(["rm", "-f", CLIENT_LOG])
    with unit_of_our_own(root_session, "opsproof-client", "no", command=CLIENT) as unit:
        config = tmp_path / "opsproof.yaml"
        config.write_text(config_text(guest, _client_services(unit), _partition_plan("6s")))
        run, environment = chaos_run(config, tmp_path)
        assert plan_problems("guest", environment, tmp_path) == []
        _wait(lambda: "up" in _log(root_session), 60, "the client reaching redis")

        result = run_experiment(run, experiment(environment))

        _wait(lambda: _log(root_session)[-1:] == ["up"], 30, "the client reaching redis again")
        log = _log(root_session)
    root_session.run(["rm", "-f", CLIENT_LOG])
    assert result.verdict == "passed", f"{result.reason}; {result.figures}; client: {log}"
    hits = result.figures["fault.packets_hit"].value
    assert isinstance(hits, int) and hits > 0
    # up before the fault, down during it (never answered from inside the unit), up after
    first_down = log.index("down", log.index("up"))
    assert "up" in log[first_down:], log
    # the partition is the unit's only: Redis answered the runner throughout
    assert result.outage_s == 0, result.reason
    assert "opsproof-" not in _tables(root_session)
    assert not run.ledger.open_faults()


def test_the_guest_deletes_the_partition_itself_after_the_runner_and_watchdog_are_killed(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    deadline = 60.0  # an SSH read takes seconds under emulation: room to see the table first
    with unit_of_our_own(root_session, "opsproof-client2", "no", command=CLIENT) as unit:
        config = tmp_path / "opsproof.yaml"
        plan = _partition_plan("300s", f"{deadline:g}s")
        config.write_text(config_text(guest, _client_services(unit), plan))
        ledger = Ledger(ledger_path(tmp_path))
        request = RunRequest("chaos", "guest", config, tmp_path, extra_args=("--no-evidence",))
        run = subprocess.Popen(
            pytest_command(request), cwd=tmp_path, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            _wait(lambda: bool(ledger.open_faults()), 180, "the partition ledgered")
            injection = ledger.open_faults()[0]
            table = f"opsproof-{injection.id}"
            _wait(lambda: table in _tables(root_session), 60, "the table on the guest")
            assert _kill_watchdog(ledger), "the run started no watchdog"
            os.killpg(run.pid, signal.SIGKILL)
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
            run.communicate(timeout=30)
        assert ledger.open_faults(), "nobody should be left to revert it from here"
        left = max(0.0, injection.deadline - time.time())
        assert table in _tables(root_session)

        took = _wait(lambda: table not in _tables(root_session), left + 30, "deleted")

    assert took >= left - 2  # the guest's timer, not someone earlier
    assert redis_answers(guest)
    by_hand = _revert_by_hand(tmp_path)
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
    assert not ledger.open_faults()


def _fill_plan(size: str, keep_free: str) -> str:
    return (
        f"may_hit: [cache]\nsteady_state: [cache]\n{RECOVERY}experiments:\n"
        "  - name: redis disk filled\n"
        f"    fault: {{action: disk_fill, service: cache, path: /var/lib/redis, size: {size},\n"
        f"            keep_free: {keep_free}}}\n    duration: 2s\n"
    )


def _fills(root: SshSession) -> str:
    return root.run(["find", "/var/lib/redis", "-name", ".opsproof-fill-*"]).text()


def test_a_disk_fill_on_the_guest_is_bounded_and_removed(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, "", _fill_plan("64MiB", "256MiB")))
    run, environment = chaos_run(config, tmp_path)
    assert plan_problems("guest", environment, tmp_path) == []

    result = run_experiment(run, experiment(environment))

    assert result.verdict == "passed", result.reason
    allocated = result.figures["fault.allocated_bytes"].value
    assert allocated == 64 << 20, allocated
    assert _fills(root_session) == ""
    assert not run.ledger.open_faults()


def test_a_disk_fill_that_would_leave_less_than_the_floor_free_is_refused(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(config_text(guest, "", _fill_plan("64MiB", "1TiB")))
    run, environment = chaos_run(config, tmp_path)

    [problem] = plan_problems("guest", environment, tmp_path)
    with pytest.raises(SafetyError, match=r"less than keep_free \(1.0TiB\)"):
        run_experiment(run, experiment(environment))

    assert (
        problem.path[-1] == "size" and "less than keep_free (1.0TiB); fill less" in problem.message
    )
    assert _fills(root_session) == ""
    assert not run.ledger.open_faults()
