"""Host probes through testinfra's local backend, on this machine's real files and sockets."""

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsproof.config.models import DiskCheck, HostService
from opsproof.probes.host import (
    disk_headroom,
    memory_headroom,
    private_port_not_public,
    secret_file_private,
)

LOCAL = HostService(kind="host")


@pytest.fixture
def listener(request: pytest.FixtureRequest) -> Iterator[int]:
    """A TCP socket listening on the address given as the test parameter."""
    family = socket.AF_INET6 if ":" in request.param else socket.AF_INET
    with socket.create_server((request.param, 0), family=family) as sock:
        yield sock.getsockname()[1]


@pytest.mark.parametrize("listener", ["0.0.0.0", "::"], indirect=True)
def test_port_on_all_interfaces_fails(listener: int) -> None:
    seen = private_port_not_public(LOCAL, listener)

    assert not seen.ok
    assert seen.target == f"local:// tcp/{listener}"
    assert "listens on all interfaces" in seen.reason
    assert seen.reason.endswith("bind it to 127.0.0.1")


@pytest.mark.parametrize("listener", ["127.0.0.1"], indirect=True)
def test_port_on_loopback_passes(listener: int) -> None:
    seen = private_port_not_public(LOCAL, listener)

    assert seen.ok, seen.reason
    assert seen.reason.endswith("loopback only (127.0.0.1)")


def test_port_not_listening_passes_saying_so(unused_port: int) -> None:
    seen = private_port_not_public(LOCAL, unused_port)

    assert seen.ok
    assert seen.reason.endswith("not listening")


def test_world_readable_secret_fails_and_private_one_passes(tmp_path: Path) -> None:
    exposed, private = tmp_path / "exposed.env", tmp_path / "private.env"
    for path, mode in ((exposed, 0o644), (private, 0o600)):
        path.write_text("TOKEN=x\n")
        path.chmod(mode)
    link = tmp_path / "link.env"
    link.symlink_to(private)

    bad, good, linked = (secret_file_private(LOCAL, p) for p in (exposed, private, link))

    assert not bad.ok
    assert "mode 0644" in bad.reason and "world-readable" in bad.reason
    assert good.ok, good.reason
    assert good.figures["mode"].value == "0600"
    assert linked.ok, linked.reason


def test_group_writable_and_missing_secret_files_fail(tmp_path: Path) -> None:
    shared = tmp_path / "shared.env"
    shared.write_text("TOKEN=x\n")
    shared.chmod(0o660)

    writable, missing = (
        secret_file_private(LOCAL, shared),
        secret_file_private(LOCAL, tmp_path / "x"),
    )

    assert not writable.ok
    assert "group-writable" in writable.reason
    assert not missing.ok
    assert missing.reason.endswith("does not exist")


def test_disk_headroom_judges_used_percent(tmp_path: Path) -> None:
    roomy = disk_headroom(LOCAL, DiskCheck(path=tmp_path, max_used_percent=100))
    full = disk_headroom(LOCAL, DiskCheck(path=tmp_path, max_used_percent=0.001))

    assert roomy.ok, roomy.reason
    assert roomy.figures["used_percent"].unit == "%"
    assert not full.ok
    assert full.reason.endswith("at most 0.001% allowed")


def test_disk_headroom_of_a_missing_path_fails(tmp_path: Path) -> None:
    seen = disk_headroom(LOCAL, DiskCheck(path=tmp_path / "gone", max_used_percent=90))

    assert not seen.ok
    assert seen.reason.endswith(f"{tmp_path / 'gone'} does not exist")


def test_memory_headroom_judges_used_percent() -> None:
    roomy = memory_headroom(LOCAL.model_copy(update={"max_memory_used_percent": 100}))
    tight = memory_headroom(LOCAL.model_copy(update={"max_memory_used_percent": 0.001}))

    assert roomy.ok, roomy.reason
    assert not tight.ok
    assert tight.figures["memory_used_percent"].target == "<= 0.001"
