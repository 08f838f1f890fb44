"""Free ports are chosen where no outgoing connection can take one before its server binds it."""

import socket
from pathlib import Path

import pytest

from opsproof.support import ports as ports_module
from opsproof.support.ports import LOOPBACK, free_ports


def _ephemeral() -> tuple[int, int]:
    low, high = ports_module.EPHEMERAL_RANGE.read_text().split()
    return int(low), int(high)


def test_ports_are_chosen_outside_the_kernels_ephemeral_range() -> None:
    low, high = _ephemeral()

    chosen = [port for _ in range(50) for port in free_ports(6)]

    inside = [port for port in chosen if low <= port <= high]
    assert not inside, f"{len(inside)} of {len(chosen)} in the ephemeral range {low}-{high}"
    assert all(port >= ports_module.SPARE_FLOOR for port in chosen)


def test_the_ports_of_one_choice_differ_and_can_be_bound() -> None:
    chosen = free_ports(20)

    assert len(set(chosen)) == 20
    for port in chosen:
        with socket.socket() as server:
            server.bind((LOOPBACK, port))


def test_a_range_with_no_spare_port_falls_back_to_the_kernels_choice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = tmp_path / "ip_local_port_range"
    everything.write_text("1024\t65535\n")
    monkeypatch.setattr(ports_module, "EPHEMERAL_RANGE", everything)

    chosen = free_ports(4)

    assert len(set(chosen)) == 4 and all(1024 <= port <= 65535 for port in chosen)
