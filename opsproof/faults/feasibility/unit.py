"""The way back for faults on a systemd unit: a host to reach it on, the unit loaded there, and
sudo without a password for systemctl (and for the undo scheduled on the host). Asked over the
run's SSH session; nothing is changed."""

import shlex
from collections.abc import Mapping

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath
from opsproof.errors import HostError
from opsproof.faults import nft
from opsproof.faults.feasibility.problem import Infeasible
from opsproof.runtimes.systemd import local_systemd_refusal
from opsproof.transport.pool import SESSIONS
from opsproof.transport.ssh import SshSession
from opsproof.transport.systemctl import read_unit

NFT_PROBE = "command -v nft >/dev/null || PATH=/usr/sbin:/sbin:$PATH command -v nft"


def unit_problems(
    service: str,
    spec: cfg.SystemdRuntimeSpec,
    fault: cfg.FaultSpec,
    experiment: str,
    fault_path: KeyPath,
    hosts: Mapping[str, cfg.HostSpec],
) -> list[Infeasible]:
    where: KeyPath = ("services", service, "runtime", "systemd")
    if isinstance(fault, cfg.NetworkFaultSpec) and fault.mode not in nft.VERDICTS:
        message = (
            f"services.{service} is a systemd unit, and {fault.mode} is not done on its host "
            f"(no delaying proxy there); use mode: {', '.join(nft.VERDICTS)}"
        )
        return [Infeasible((*fault_path, "mode"), message)]
    if spec.host is None:
        return [Infeasible(where, local_systemd_refusal())]
    host = hosts[spec.host]
    label = f"experiment {experiment!r}"
    try:
        session = SESSIONS.session(host)
        state = read_unit(session, spec.unit)
        sudo = session.run(["true"], timeout=15, sudo=True)
    except (HostError, ValueError) as error:
        message = f"{label} acts on {spec.unit} on {host.url}, which cannot be asked: {error}"
        return [Infeasible((*where, "host"), message)]
    if state.load_state != "loaded":
        message = (
            f"{label} acts on {spec.unit}, which {host.url} does not know ({state.load_state}); "
            "fix the name (systemctl list-units --type=service lists them)"
        )
        return [Infeasible((*where, "unit"), message)]
    if not sudo.ok:
        why = sudo.why()
        message = (
            f"{label} changes {spec.unit} through sudo -n on {host.url}, which refused ({why}); "
            f"allow {host.url.rsplit('@', 1)[0].removeprefix('ssh://')} systemctl and "
            "systemd-run (nft and fallocate for network and disk faults) without a password "
            "(sudoers), and set ssh.sudo: true"
        )
        return [Infeasible(("hosts", spec.host, "ssh", "sudo"), message)]
    return _host_tools(session, fault, fault_path, f"{label} on {host.url}")


def _host_tools(
    session: SshSession, fault: cfg.FaultSpec, fault_path: KeyPath, label: str
) -> list[Infeasible]:
    """What a network or disk fault and its undo need on the host, asked there."""
    if isinstance(fault, cfg.NetworkFaultSpec):
        if session.run(["sh", "-c", NFT_PROBE], timeout=15).ok:
            return []
        message = (
            f"{label}: the host has no nft, which loads the fault's rules and deletes them "
            "(its undo); install nftables there"
        )
        return [Infeasible((*fault_path, "action"), message)]
    if isinstance(fault, cfg.DiskFaultSpec):
        path = shlex.quote(str(fault.path))
        script = f"test -d {path} && df -B1 --output=avail -- {path} | tail -n 1"
        free = session.run(["sh", "-c", script], timeout=15).text().strip()
        if not free.isdigit():
            message = (
                f"{label}: {fault.path} is not a directory on the host; point path at the "
                "service's data directory there"
            )
            return [Infeasible((*fault_path, "path"), message)]
        if int(free) - fault.size < fault.keep_free:
            message = (
                f"{label}: filling {fault.path} by {fault.size.human_readable()} would leave "
                f"{max(int(free) - fault.size, 0) >> 20} MiB free, less than keep_free "
                f"({fault.keep_free.human_readable()}); fill less"
            )
            return [Infeasible((*fault_path, "size"), message)]
    return []
