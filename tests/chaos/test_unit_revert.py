"""A remote fault's undo steps: the target's own scheduled undo is cancelled only when every
step before it worked, so a host that could not be reached still undoes the fault itself."""

from pathlib import Path

from opsproof.config.models import DiskFaultSpec, HostSpec, SshOptionsSpec
from opsproof.faults.base import observed_effect
from opsproof.faults.host_faults import UnitDiskFill
from opsproof.faults.inverse import InverseStep, revert
from opsproof.faults.unit_faults import UnitAction
from opsproof.faults.unit_inverse import CancelTargetUndo, StartUnit
from opsproof.runtimes.systemd import SystemdTarget
from opsproof.support.ports import free_ports


def test_the_scheduled_undo_is_kept_when_a_step_before_it_failed(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    nobody = HostSpec(
        url=f"ssh://ops@127.0.0.1:{free_ports(1)[0]}",  # nothing listens: refused at once
        ssh=SshOptionsSpec(known_hosts=known_hosts, connect_timeout=2),
    )
    target = SystemdTarget(name="cache", unit="redis-server.service", host=nobody)
    steps: list[InverseStep] = [
        StartUnit(target=target),
        CancelTargetUndo(target=target, fault_id="abc123"),
    ]

    problems = revert(steps)

    [problem] = problems  # the start's; the cancellation was not even tried
    assert problem.startswith("start systemd://ops@127.0.0.1:") and "unreachable" in problem


def test_a_disk_fill_on_a_host_lost_mid_fault_is_unproven_not_a_crash(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    lost = HostSpec(
        url=f"ssh://ops@127.0.0.1:{free_ports(1)[0]}",  # the host gone after injection
        ssh=SshOptionsSpec(known_hosts=known_hosts, connect_timeout=2),
    )
    target = SystemdTarget(name="db", unit="postgresql.service", host=lost)
    spec = DiskFaultSpec.model_validate(
        {"action": "disk_fill", "service": "db", "path": "/var/lib/postgresql", "size": "64MiB"}
    )

    seen = UnitDiskFill(spec, target, "abc123", 60.0).effect()

    assert not seen.ok and seen.reason.startswith("the fill on the host was not read: ")
    assert "unreachable" in seen.reason


def test_a_unit_fault_whose_host_is_lost_is_judged_unproven_by_the_experiment(
    tmp_path: Path,
) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    lost = HostSpec(
        url=f"ssh://ops@127.0.0.1:{free_ports(1)[0]}",
        ssh=SshOptionsSpec(known_hosts=known_hosts, connect_timeout=2),
    )
    target = SystemdTarget(name="cache", unit="redis.service", host=lost)
    kill = UnitAction("kill", target, "k1", 60.0)

    seen = observed_effect(kill)  # its effect reads the unit's state over SSH

    assert not seen.ok and seen.reason.startswith("the fault's effect was not read: ")
