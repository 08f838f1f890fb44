"""Helpers for the chaos tests on the guest: an environment written as a user writes it (the
guest under hosts:, services run by systemd there), and units of our own ("foreign ground":
opsproof did not start them, they are declared only in YAML)."""

import socket
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opsproof.config.loader import load_environment
from opsproof.config.models import ChaosExperimentSpec, Environment
from opsproof.faults.experiment import ChaosRun
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.testhost.machine import GuestState
from opsproof.transport.ssh import SshSession

UNIT_DIR = "/run/systemd/system"
"""Units written here vanish with the boot: nothing left on the guest."""
WATCHED_UNITS = ("redis-server.service", "postgresql.service")
SNAPSHOT = (
    "systemctl list-units --all --plain --no-legend 'opsproof-*'; echo --; "
    "find /run/systemd/system /run/systemd/system.control -type f 2>/dev/null | sort; "
    "echo --; "
    "systemctl show --property=LoadState,ActiveState,SubState,FreezerState,MemoryMax,"
    f"CPUQuotaPerSecUSec -- {' '.join(WATCHED_UNITS)}; echo --; "
    "wc -l < /sys/fs/cgroup/system.slice/redis-server.service/cgroup.procs; echo --; "
    "ls -d /sys/fs/cgroup/system.slice/opsproof-* 2>/dev/null; "
    "pgrep -c -f 'opsproof-faul[t]='; echo --; "
    "sudo -n nft list tables; "
    "sudo -n find /var/lib/redis /var/lib/postgresql /tmp -name '.opsproof-fill-*'"
)
"""What a test may change on the guest, read in one round trip: units and their files (an empty
drop-in directory is no setting), the shared services' state and limits (PIDs and restart
counts left out: a kill test changes them by design), opsproof's cgroup v2 scopes and the
processes a fault marks as its own (stressors, holders: ``opsproof-fault=<id>``)."""


def guest_snapshot(session: SshSession) -> str:
    done = session.run(["sh", "-c", SNAPSHOT])
    assert done.ok, done.stderr
    return done.text()


def config_text(guest: GuestState, services: str, plan: str) -> str:
    """An environment ``guest`` (chaos allowed) with the guest's Redis as ``cache`` and the
    given extra services (YAML under ``services:``) and chaos plan body."""
    return (
        "version: 1\nenvironments:\n  guest:\n    chaos: allowed\n    hosts:\n      vm:\n"
        f"        url: {guest.ssh_url}\n"
        f"        ssh: {{known_hosts: {guest.known_hosts}, identity_file: {guest.identity_file}, "
        "sudo: true}\n"
        "    services:\n      cache:\n        kind: redis\n"
        f"        url: redis://127.0.0.1:{guest.ports['redis']}/0\n"
        "        runtime: {systemd: {unit: redis-server.service, host: vm}}\n"
        f"{textwrap.indent(textwrap.dedent(services), '      ')}"
        f"    chaos_plan:\n{textwrap.indent(textwrap.dedent(plan), '      ')}"
    )


def chaos_run(config: Path, state_dir: Path) -> tuple[ChaosRun, Environment]:
    environment = load_environment(config, "guest").environment
    run = ChaosRun("guest", environment, state_dir, Ledger(ledger_path(state_dir)), config.parent)
    return run, environment


def experiment(environment: Environment, index: int = 0) -> ChaosExperimentSpec:
    assert environment.chaos_plan is not None
    return environment.chaos_plan.experiments[index]


RESTART_SEC = 3
"""Our units' RestartSec=: an outage long enough for the steady-state poller to see even when
one SSH read takes seconds (a loaded runner, emulation): with RestartSec=1 a read of 3 s at
load 5 missed the outage and the experiment found no restart to credit to systemd."""


@contextmanager
def unit_of_our_own(root: SshSession, name: str, restart: str, command: str = "") -> Iterator[str]:
    """A tiny service written over SSH (a shell loop that writes a heartbeat file, or
    ``command``: a shell script without ``'`` or ``%``), started;
    stopped and removed afterwards, one round trip each. No daemon-reload (it costs tens of
    seconds under emulation): systemd loads a unit file new in a unit directory when the unit
    is first asked for, and forgets a stopped unit whose file is gone."""
    unit = f"{name}.service"
    body = (
        f"[Unit]\nDescription=opsproof test unit {name}\n[Service]\n"
        f"ExecStart=/bin/sh -c '{command or _heartbeat(name)}'\n"
        f"Restart={restart}\nRestartSec={RESTART_SEC}\n"
    )
    path = f"{UNIT_DIR}/{unit}"
    started = root.run(
        ["sh", "-c", f"printf '%s' {_quoted(body)} > {path} && systemctl start {unit}"]
    )
    assert started.ok, started.stderr
    try:
        yield unit
    finally:
        root.run(
            ["sh", "-c", f"systemctl stop {unit}; rm -f {path}; systemctl reset-failed {unit}"]
        )


def _heartbeat(name: str) -> str:
    return f"while :; do date +%%s > /run/{name}.beat; sleep 1; done"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def redis_answers(guest: GuestState) -> bool:
    """One PING through the forwarded port, answered within 2 s (no client retries)."""
    try:
        with socket.create_connection(("127.0.0.1", guest.ports["redis"]), timeout=2) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False
