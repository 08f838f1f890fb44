"""The shipped examples/testhost.yaml, run as a user runs it: ``eval "$(opsproof testhost
status --shell)"`` then ``opsproof run gate`` (it passes against the guest) and ``opsproof run
chaos -- -k partition`` (the app cut off from Redis says so, and is healthy again after the
revert: passed, with the partition's figures in the report)."""

import json
import os
from pathlib import Path

from opsproof.cli_testhost import shell_variables
from opsproof.config.loader import load_environment
from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.testhost.machine import GuestState
from opsproof.transport.ssh import SshSession
from tests.testhost.example import EXAMPLE, exported, run_example


def test_the_example_gate_passes_against_the_guest(guest: GuestState, tmp_path: Path) -> None:
    done = run_example("gate", guest, tmp_path)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [summary] = tmp_path.glob("*-gate-testhost/summary.md")
    text = summary.read_text()
    assert guest.ssh_url in text
    for unit in ("redis-server.service", "postgresql@15-main.service", "opsproof-app.service"):
        [item] = [
            line for line in text.splitlines() if "test_runtime_health[" in line and unit in line
        ]
        assert item.startswith("| ✅"), item


def test_the_example_partition_of_the_app_from_redis_is_reported_and_recovered(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    done = run_example("chaos", guest, tmp_path, "-k", "partition")

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [run_dir] = tmp_path.glob("*-chaos-testhost")
    evidence = json.loads((run_dir / "evidence.json").read_text())
    [experiment] = evidence["experiments"]
    assert experiment["verdict"] == "passed", experiment
    assert experiment["fault"].startswith("partition (packets dropped) from systemd://")
    assert "opsproof-app.service to cache 127.0.0.1:6379" in experiment["fault"]
    [check] = evidence["checks"]
    figures = {f["name"]: f["value"] for f in check["figures"]}
    # the rule was hit by the app's own packets, and the app said so: a 503 naming redis
    assert figures["fault.packets_hit"] > 0
    assert figures["expect1.seen_s"] <= 15
    # an outage of the app (allowed: the expectation describes it) that the revert ended
    assert experiment["outage_s"] > 0 and experiment["restored_by"] == "revert"
    assert 0 < experiment["time_to_impact_s"] <= figures["expect1.seen_s"]
    assert experiment["recovery_s"] <= experiment["recovery_target_s"] == 30
    assert not Ledger(ledger_path(tmp_path / "state")).open_faults()
    # the table on the guest is gone: conftest's guest_left_as_found lists nftables tables


def test_the_example_partition_aimed_at_a_port_the_app_never_uses_is_inconclusive(
    guest: GuestState, root_session: SshSession, tmp_path: Path
) -> None:
    # the same experiment with the wrong port: the rule is in place but the app's packets to
    # Redis pass it, so the app stays healthy; nothing proves the fault acted: never a pass.
    # Run in this process (the CLI's start and its plan check cost a minute on the guest).
    config = tmp_path / "testhost.yaml"
    config.write_text(EXAMPLE.read_text().replace("port: 6379}", "port: 6380}"))
    environ = {**os.environ, **exported(shell_variables(guest))}
    environment = load_environment(config, "testhost", environ=environ).environment
    assert environment.chaos_plan is not None
    [partition] = [e for e in environment.chaos_plan.experiments if "partition" in e.name]
    ledger = Ledger(ledger_path(tmp_path))
    run = ChaosRun("testhost", environment, tmp_path, ledger, tmp_path)

    result = run_experiment(run, partition)

    assert result.verdict == "inconclusive", result.reason
    assert result.reason.startswith("the fault had no observable effect: 0 packets")
    assert result.figures["fault.packets_hit"].value == 0
    assert result.outage_s == 0
    assert not ledger.open_faults()
