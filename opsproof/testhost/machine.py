"""Boot, find and stop the test host guest.

Each boot runs on a fresh copy-on-write overlay of the cached image, so it starts clean. The
only network is qemu's user network with ``restrict=on``: the guest reaches nothing, and the
runner reaches it only through ports forwarded on 127.0.0.1 (SSH, Redis, PostgreSQL, the app).
"""

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from opsproof.errors import HostError, HostKeyRejected, TestHostError
from opsproof.support.filelock import exclusive
from opsproof.support.ports import LOOPBACK, free_ports
from opsproof.support.processes import log_tail
from opsproof.support.programs import find_program
from opsproof.support.waiting import POLL_INTERVAL, poll_until
from opsproof.testhost.accel import choose_accel
from opsproof.testhost.guest_app import APP_PORT
from opsproof.testhost.image import GUEST_USER, Progress, ensure_image
from opsproof.testhost.layout import CacheLayout
from opsproof.transport.endpoint import SshEndpoint
from opsproof.transport.ssh import SshSession

GUEST_PORTS = {"ssh": 22, "redis": 6379, "postgresql": 5432, "app": APP_PORT}
MEMORY_MB = 1024
BOOT_TIMEOUT = 420.0
"""sshd answers ~55 s after qemu starts under emulation on an idle core; a busy one is slower."""
READY_TIMEOUT = 240.0
KERNEL_ARGS = "root=/dev/vda rw console=ttyS0 systemd.firstboot=off"
PORT_ATTEMPTS = 5
FORWARD_TAKEN = "Could not set up host forwarding rule"
"""What qemu says when a port it is to forward was taken (qemu 7.2)."""

PortChooser = Callable[[int], list[int]]


@dataclass(frozen=True)
class GuestState:
    """A booted guest as ``testhost status --json`` reports it."""

    pid: int
    accel: str
    ports: dict[str, int]
    user: str
    identity_file: str
    known_hosts: str
    started_at: float
    boot_seconds: float
    ready_seconds: float
    system_state: str
    postgres_password: str
    """Of the ``opsproof`` superuser this boot created (the guest is thrown away at down)."""
    running: bool = field(default=True)

    @property
    def postgres_dsn(self) -> str:
        port = self.ports["postgresql"]
        return f"postgresql://{GUEST_USER}:{self.postgres_password}@{LOOPBACK}:{port}/postgres"

    @property
    def ssh_url(self) -> str:
        return f"ssh://{self.user}@{LOOPBACK}:{self.ports['ssh']}"

    def endpoint(self, *, sudo: bool = False) -> SshEndpoint:
        return SshEndpoint(
            user=self.user,
            host=LOOPBACK,
            port=self.ports["ssh"],
            known_hosts=Path(self.known_hosts),
            identity_file=Path(self.identity_file),
            sudo=sudo,
        )

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ssh_url": self.ssh_url}


def status(layout: CacheLayout) -> GuestState | None:
    """The running guest, or None (a state file whose qemu is gone counts as none)."""
    try:
        state = GuestState(**json.loads(layout.state.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return state if _is_our_qemu(state.pid, layout) else None


def up(layout: CacheLayout, progress: Progress) -> GuestState:
    """The running guest, booted first (and the image built first) when none runs."""
    layout.run.mkdir(parents=True, exist_ok=True)
    with exclusive(layout.run / "lock", BOOT_TIMEOUT, TestHostError("another testhost command")):
        if running := status(layout):
            return running
        _kill_unrecorded(layout)
        _clear_run(layout)
        facts = ensure_image(layout, progress)
        qemu = find_program("qemu-system-x86_64", package="qemu-system-x86")
        accel = choose_accel(qemu, layout.kernel, layout.root / "accel.json")
        _overlay(layout)
        progress(f"testhost: booting Debian (kernel {facts.kernel}, accel {accel})")
        began, started_at = time.monotonic(), time.time()
        ports = launch(qemu, accel, layout)
        layout.known_hosts.write_text(
            f"[{LOOPBACK}]:{ports['ssh']} {layout.host_key_pub.read_text().split(' #')[0]}"
        )
        postgres_password = secrets.token_hex(16)
        pid = int(layout.pid_file.read_text().strip())
        state = GuestState(
            pid=pid,
            accel=accel,
            ports=ports,
            user=GUEST_USER,
            identity_file=str(layout.client_key),
            known_hosts=str(layout.known_hosts),
            started_at=started_at,
            boot_seconds=0.0,
            ready_seconds=0.0,
            system_state="booting",
            postgres_password=postgres_password,
        )
        try:
            with _wait_for_ssh(state, layout) as session:
                boot = time.monotonic() - began
                progress(f"testhost: sshd answered after {boot:.1f} s; waiting for systemd")
                ready = session.run(
                    ["systemctl", "is-system-running", "--wait"], timeout=READY_TIMEOUT
                )
                system_state = ready.text().strip() or f"exit {ready.exit_status}"
                _postgres_login(session, postgres_password)
        except BaseException:  # a failed or interrupted boot leaves no qemu behind
            _kill(pid)
            raise
        state = GuestState(
            **{
                **asdict(state),
                "boot_seconds": round(boot, 1),
                "ready_seconds": round(time.monotonic() - began, 1),
                "system_state": system_state,
            }
        )
        layout.state.write_text(json.dumps(asdict(state), indent=2))
        return state


def down(layout: CacheLayout) -> GuestState | None:
    """Stop qemu (SIGTERM, then SIGKILL) and remove the boot's overlay; None if none ran. No
    clean poweroff: the overlay is all the guest ever wrote and is thrown away, so waiting for
    systemd to stop every unit under emulation (11-15 s) would keep nothing."""
    layout.run.mkdir(parents=True, exist_ok=True)
    with exclusive(layout.run / "lock", BOOT_TIMEOUT, TestHostError("another testhost command")):
        state = status(layout)
        if state is not None:
            _kill(state.pid)
        _kill_unrecorded(layout)
        _clear_run(layout)
        return state


def launch(
    qemu: str, accel: str, layout: CacheLayout, choose_ports: PortChooser = free_ports
) -> dict[str, int]:
    """Start qemu on the boot's overlay; the host ports it forwards are the result.

    qemu binds those ports itself, after opsproof chose them free, so another program can take
    one in between; qemu then exits at once, before the guest runs, and another choice costs
    nothing. A different failure is not retried."""
    tries = PORT_ATTEMPTS
    while True:
        ports = dict(zip(GUEST_PORTS, choose_ports(len(GUEST_PORTS)), strict=True))
        try:
            _start_qemu(qemu, accel, ports, layout)
        except TestHostError as error:
            tries -= 1
            if FORWARD_TAKEN not in str(error) or not tries:
                raise
            continue
        return ports


def _start_qemu(qemu: str, accel: str, ports: dict[str, int], layout: CacheLayout) -> None:
    forwards = ",".join(
        f"hostfwd=tcp:{LOOPBACK}:{ports[name]}-:{guest}" for name, guest in GUEST_PORTS.items()
    )
    argv = [
        qemu, "-name", "opsproof-testhost", "-accel", accel, "-cpu", "max",
        "-m", str(MEMORY_MB), "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
        "-kernel", str(layout.kernel), "-initrd", str(layout.initrd), "-append", KERNEL_ARGS,
        "-drive", f"file={layout.overlay},if=virtio,format=qcow2",
        "-netdev", f"user,id=n0,restrict=on,{forwards}",
        "-device", "virtio-net-pci,netdev=n0",
        "-device", "virtio-rng-pci",
        "-serial", f"file:{layout.serial_log}",
        "-daemonize", "-pidfile", str(layout.pid_file),
    ]  # fmt: skip
    try:
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        raise TestHostError("qemu did not daemonize within 60 s") from None
    if done.returncode != 0 or not layout.pid_file.exists():
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise TestHostError(f"qemu exited with {done.returncode}: {reason[0]}")


def _wait_for_ssh(state: GuestState, layout: CacheLayout) -> SshSession:
    """Poll until the guest's sshd lets the runner in; the open session is the result. A host
    key other than the image's is refused at once: it would not get better by waiting."""
    deadline = time.monotonic() + BOOT_TIMEOUT
    last = "no attempt"
    while time.monotonic() < deadline:
        if not _is_our_qemu(state.pid, layout):
            raise TestHostError(
                f"qemu exited during boot; serial console:\n{log_tail(str(layout.serial_log))}"
            )
        session = SshSession(state.endpoint())
        try:
            return session.open()
        except HostKeyRejected:
            raise
        except HostError as error:
            last = str(error)
        time.sleep(POLL_INTERVAL * 20)
    raise TestHostError(
        f"sshd did not answer within {BOOT_TIMEOUT:g} s ({last}); see {layout.serial_log}"
    )


def _postgres_login(session: SshSession, password: str) -> None:
    """A PostgreSQL superuser the runner logs in as through the forwarded port (scram)."""
    sql = f"CREATE ROLE {GUEST_USER} LOGIN SUPERUSER PASSWORD '{password}'"
    created = session.run(
        ["sudo", "-n", "-u", "postgres", "psql", "-v", "ON_ERROR_STOP=1", "-qc", sql], timeout=60
    )
    if not created.ok:
        why = created.stderr.decode("utf-8", "replace").strip()
        raise TestHostError(f"could not create the PostgreSQL login: {why}")


def _overlay(layout: CacheLayout) -> None:
    qemu_img = find_program("qemu-img", package="qemu-utils")
    argv = [
        qemu_img,
        "create",
        "-q",
        "-f",
        "qcow2",
        "-F",
        "raw",
        "-b",
        str(layout.disk),
        str(layout.overlay),
    ]
    done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        raise TestHostError(f"qemu-img create failed: {done.stderr.decode().strip()}")


def _is_our_qemu(pid: int, layout: CacheLayout) -> bool:
    try:
        return str(layout.overlay) in " ".join(psutil.Process(pid).cmdline())
    except (psutil.Error, ValueError):
        return False


def _kill(pid: int) -> None:
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if poll_until(lambda: not psutil.pid_exists(pid) or _zombie(pid), wait):
            return


def _zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _kill_unrecorded(layout: CacheLayout) -> None:
    """Kill a qemu of this cache that has no readable state (its boot was interrupted, or an
    older opsproof wrote the state), so no guest is left running unseen."""
    try:
        pid = int(layout.pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    if _is_our_qemu(pid, layout):
        _kill(pid)


def _clear_run(layout: CacheLayout) -> None:
    for path in (layout.state, layout.overlay, layout.pid_file, layout.known_hosts):
        path.unlink(missing_ok=True)
