"""The way back for faults on processes under cgroup v2, and on processes on a declared host:
the host reachable, ``sudo -n`` allowed there, its start program installed, and for memory and
CPU faults the unified hierarchy with the memory and cpu controllers, systemd to delegate
opsproof's scope, ``perl`` for the stressor. Asked in one round trip per experiment; reads
only."""

import os
import shlex

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath
from opsproof.errors import HostError
from opsproof.faults import cgroup_v2
from opsproof.faults.feasibility.problem import Infeasible
from opsproof.faults.feasibility.process import needs_start
from opsproof.support.text import one_line

HOST_ACTIONS = ("kill", "stop", "restart", "pause", "memory", "cpu")
FACTS = (
    "printf 'controllers='; cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null; echo; "
    "[ -d /run/systemd/system ] && echo systemd=yes; "
    "command -v perl >/dev/null && echo perl=yes; "
    "command -v systemd-run >/dev/null && echo systemd-run=yes; "
)


def _facts(shell: cgroup_v2.Shell, start: str | None) -> dict[str, str]:
    script = FACTS + (
        f"command -v {shlex.quote(start)} >/dev/null && echo start=yes; " if start else ""
    )
    done = shell.run(script + "true", 30.0, root=False)
    pairs = (line.split("=", 1) for line in done.out.splitlines() if "=" in line)
    return {key: value.strip() for key, value in pairs}


def group_problems(
    facts: dict[str, str], fault: cfg.FaultSpec, where: str, at: KeyPath, label: str
) -> list[Infeasible]:
    """What a memory or CPU fault needs of the machine at ``where``."""
    controller = "memory" if isinstance(fault, cfg.MemoryFaultSpec) else "cpu"
    missing = []
    if "controllers" not in facts or not facts["controllers"]:
        missing.append("cgroup v2 (no /sys/fs/cgroup/cgroup.controllers: cgroup v1 or none)")
    elif controller not in facts["controllers"].split():
        missing.append(f"the {controller} controller at the cgroup v2 root")
    if facts.get("systemd") != "yes" or facts.get("systemd-run") != "yes":
        missing.append("systemd as PID 1 with systemd-run (it delegates opsproof's scope)")
    if facts.get("perl") != "yes":
        missing.append("perl (the stressor; perl-base in Debian)")
    if not missing:
        return []
    message = f"{label} limits the service in a cgroup v2 group on {where}, which lacks " + (
        "; ".join(missing)
    )
    return [Infeasible(at, message)]


def host_process_problems(
    service: str,
    spec: cfg.ProcessRuntimeSpec,
    fault: cfg.FaultSpec,
    experiment: str,
    fault_path: KeyPath,
    hosts: dict[str, cfg.HostSpec],
) -> list[Infeasible]:
    """A fault on processes on a declared host: the host answers, sudo works, the start
    program is there when the fault leaves the service down, the cgroup v2 needs."""
    assert spec.host is not None
    where: KeyPath = ("services", service, "runtime", "process")
    label = f"experiment {experiment!r}"
    if fault.action not in HOST_ACTIONS:
        message = (
            f"services.{service} runs on host {spec.host!r}, and {fault.action} faults act on "
            f"this machine's processes only; use {', '.join(HOST_ACTIONS)} on it"
        )
        return [Infeasible((*fault_path, "action"), message)]
    host = hosts[spec.host]
    shell = cgroup_v2.RemoteShell(host)
    start = spec.start[0] if spec.start else None
    try:
        facts = _facts(shell, start)
        sudo = shell.run("true", 15.0, root=True)
    except HostError as error:
        message = (
            f"{label} acts on process://{service} on {host.url}, which cannot be asked: {error}"
        )
        return [Infeasible((*where, "host"), message)]
    problems: list[Infeasible] = []
    if not sudo.ok:
        message = (
            f"{label} signals and moves process://{service} through sudo -n on {host.url}, which "
            f"refused ({one_line(sudo.err) or 'no reason'}); allow it without a password "
            "(sudoers) and set ssh.sudo: true"
        )
        problems.append(Infeasible(("hosts", spec.host, "ssh", "sudo"), message))
    verb = needs_start(fault)
    if verb is not None and not spec.start:
        message = (
            f"{label} {verb} process://{service} on {host.url}, and nothing could start it again: "
            "add start: [program, arg, ...] here (the command its supervisor runs)"
        )
        problems.append(Infeasible(where, message))
    elif verb is not None and facts.get("start") != "yes":
        message = (
            f"{label} {verb} process://{service}, and its start command could not run on "
            f"{host.url}: {start!r} is not an executable file or on PATH there; write its full path"
        )
        problems.append(Infeasible((*where, "start"), message))
    if isinstance(fault, cfg.MemoryFaultSpec | cfg.CpuFaultSpec):
        problems += group_problems(facts, fault, host.url, (*where, "host"), label)
    return problems


def local_group_problems(fault: cfg.FaultSpec, at: KeyPath, label: str) -> list[Infeasible]:
    """A memory or CPU fault on this machine's processes when it runs cgroup v2."""
    problems = group_problems(
        _facts(cgroup_v2.LocalShell(), None), fault, "this machine", at, label
    )
    if os.geteuid() != 0:
        message = f"{label} moves the service between cgroups, which needs root; run as root"
        problems.append(Infeasible(at, message))
    return problems
