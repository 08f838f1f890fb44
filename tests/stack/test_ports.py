"""Free ports are chosen where no outgoing connection, and no other opsproof process, can take
one before its server binds it."""

import multiprocessing
import socket
import time
from collections import Counter
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


def _choose_many(rounds: int) -> list[int]:
    return [port for _ in range(rounds) for port in free_ports(4)]


def test_processes_choosing_at_once_never_get_the_same_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """None of them binds what it chose (as a server still starting has not): by binding alone,
    800 choices from the spare ports would give the same port twice many times over."""
    monkeypatch.setattr(ports_module, "HANDED_OUT", tmp_path / "handed-out")
    with multiprocessing.get_context("fork").Pool(4) as pool:
        chosen = [port for ports in pool.map(_choose_many, [50] * 4) for port in ports]

    assert len(chosen) == 800
    twice = sorted(port for port, times in Counter(chosen).items() if times > 1)
    assert not twice, f"handed out more than once: {twice}"


def test_a_damaged_note_is_rewritten_without_its_damage_or_its_expired_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "handed-out"
    note.write_text(f"not a port\n21000 {time.time() - 1:.0f}\n22000\n")
    monkeypatch.setattr(ports_module, "HANDED_OUT", note)

    chosen = free_ports(3)

    assert sorted(int(line.split()[0]) for line in note.read_text().splitlines()) == sorted(chosen)


def test_an_unusable_note_still_gives_free_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").touch()  # so the note's directory cannot be made
    monkeypatch.setattr(ports_module, "HANDED_OUT", tmp_path / "a-file" / "handed-out")

    assert len(set(free_ports(4))) == 4


def test_a_link_planted_as_the_note_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary directory is everyone's: a link there must not make opsproof overwrite
    the file it points to."""
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "handed-out").symlink_to(victim)
    monkeypatch.setattr(ports_module, "HANDED_OUT", tmp_path / "handed-out")

    assert len(set(free_ports(4))) == 4
    assert victim.read_text() == "precious\n"
