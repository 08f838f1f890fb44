"""The way back for faults on a systemd unit: a host to reach it on, the unit loaded there, and
sudo without a password for systemctl (and for the undo scheduled on the host). Asked over the
run's SSH session; nothing is changed."""

from collections.abc import Mapping

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath
from opsproof.errors import HostError
from opsproof.faults.feasibility.problem import Infeasible
from opsproof.runtimes.systemd import local_systemd_refusal
from opsproof.support.text import one_line
from opsproof.transport.pool import SESSIONS
from opsproof.transport.systemctl import read_unit

UNIT_ACTIONS = ("kill", "stop", "restart", "pause", "memory", "cpu")


def unit_problems(
    service: str,
    spec: cfg.SystemdRuntimeSpec,
    fault: cfg.FaultSpec,
    experiment: str,
    fault_path: KeyPath,
    hosts: Mapping[str, cfg.HostSpec],
) -> list[Infeasible]:
    where: KeyPath = ("services", service, "runtime", "systemd")
    if fault.action not in UNIT_ACTIONS:
        message = (
            f"services.{service} is a systemd unit, and {fault.action} faults do not act on "
            f"units yet; use {', '.join(UNIT_ACTIONS)} on it"
        )
        return [Infeasible((*fault_path, "action"), message)]
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
        why = one_line(sudo.stderr.decode("utf-8", "replace")) or f"exit {sudo.exit_status}"
        message = (
            f"{label} changes {spec.unit} through sudo -n on {host.url}, which refused ({why}); "
            f"allow {host.url.rsplit('@', 1)[0].removeprefix('ssh://')} systemctl and "
            "systemd-run without a password (sudoers), and set ssh.sudo: true"
        )
        return [Infeasible(("hosts", spec.host, "ssh", "sudo"), message)]
    return []
