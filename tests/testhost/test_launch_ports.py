"""qemu binds the ports it forwards after opsproof chose them free: a port another program takes
in that moment costs a fresh choice, not the boot (what failed a CI run's every guest test)."""

import socket
import subprocess
from pathlib import Path

import psutil
import pytest

from opsproof import errors
from opsproof.support.ports import LOOPBACK, free_ports
from opsproof.support.programs import find_program
from opsproof.testhost.layout import CacheLayout
from opsproof.testhost.machine import GUEST_PORTS, GuestState, down, launch


def _scratch_layout(image: CacheLayout, root: Path) -> CacheLayout:
    """The image's kernel and an empty disk: qemu starts (the guest itself never boots)."""
    layout = CacheLayout(root)
    layout.run.mkdir(parents=True)
    layout.kernel.symlink_to(image.kernel)
    layout.initrd.symlink_to(image.initrd)
    qemu_img = find_program("qemu-img", package="qemu-utils")
    subprocess.run(
        [qemu_img, "create", "-q", "-f", "qcow2", str(layout.overlay), "64M"],
        check=True,
        timeout=60,
    )
    return layout


def test_a_forwarded_port_taken_before_qemu_binds_it_is_chosen_afresh(
    guest: GuestState, testhost_layout: CacheLayout, tmp_path: Path
) -> None:
    layout = _scratch_layout(testhost_layout, tmp_path)
    qemu = find_program("qemu-system-x86_64", package="qemu-system-x86")
    calls: list[list[int]] = []

    with socket.socket() as taker:
        taker.bind((LOOPBACK, 0))
        taker.listen()
        taken = taker.getsockname()[1]

        def choose(count: int) -> list[int]:
            ports = free_ports(count)
            calls.append([taken, *ports[1:]] if not calls else ports)
            return calls[-1]

        try:
            ports = launch(qemu, "tcg", layout, choose)
            listening = {c.laddr.port for c in psutil.net_connections("tcp4") if not c.raddr}
        finally:
            down(layout)  # the scratch layout's qemu, found by its pid file

    assert len(calls) == 2, calls
    assert ports == dict(zip(GUEST_PORTS, calls[1], strict=True))
    assert set(ports.values()) <= listening, "qemu does not forward the ports it was given"


def test_a_port_taken_at_every_choice_fails_the_boot_with_qemus_reason(
    guest: GuestState, testhost_layout: CacheLayout, tmp_path: Path
) -> None:
    layout = _scratch_layout(testhost_layout, tmp_path)
    qemu = find_program("qemu-system-x86_64", package="qemu-system-x86")

    with socket.socket() as taker:
        taker.bind((LOOPBACK, 0))
        taker.listen()
        taken = taker.getsockname()[1]
        try:
            with pytest.raises(errors.TestHostError) as refused:
                launch(qemu, "tcg", layout, lambda count: [taken, *free_ports(count - 1)])
        finally:
            down(layout)

    forward = f"'tcp:{LOOPBACK}:{taken}-:22'"
    assert f"Could not set up host forwarding rule {forward}" in str(refused.value)
