"""The gate's host probes on a host under ``hosts:``: over the run's one SSH session to the
guest, detecting what they exist for there (a port open to all interfaces, a readable file)."""

from pathlib import Path

import pytest

from opsproof.config.models import DiskCheck, HostService, HostSpec
from opsproof.probes.host import (
    disk_headroom,
    memory_headroom,
    private_port_not_public,
    secret_file_private,
)
from opsproof.support.ports import free_ports
from opsproof.testhost.machine import GuestState
from opsproof.transport.pool import SESSIONS

SERVICE = HostService(kind="host", host="guest")


@pytest.fixture
def remote(guest: GuestState) -> HostSpec:
    return HostSpec.model_validate(
        {
            "url": guest.ssh_url,
            "ssh": {"known_hosts": guest.known_hosts, "identity_file": guest.identity_file},
        }
    )


def test_disk_and_memory_are_read_on_the_guest(remote: HostSpec) -> None:
    roomy = disk_headroom(SERVICE, DiskCheck(path=Path("/"), max_used_percent=100), remote)
    full = disk_headroom(SERVICE, DiskCheck(path=Path("/"), max_used_percent=0.001), remote)
    memory = memory_headroom(SERVICE.model_copy(update={"max_memory_used_percent": 100}), remote)

    assert roomy.ok and roomy.target.startswith(remote.url)
    assert not full.ok and "at most 0.001% allowed" in full.reason
    # The guest has 1 GiB: what it reports is its own memory, not the runner's.
    assert memory.ok and memory.figures["memory_available_bytes"].value < 1 << 30


def test_a_port_listening_on_all_interfaces_of_the_guest_fails(remote: HostSpec) -> None:
    redis = private_port_not_public(SERVICE, 6379, remote)  # the image binds it to 0.0.0.0

    assert not redis.ok and "listens on all interfaces (0.0.0.0)" in redis.reason


def test_file_modes_are_read_on_the_guest(remote: HostSpec) -> None:
    key = secret_file_private(SERVICE, Path("/etc/ssh/ssh_host_ed25519_key"), remote)
    passwd = secret_file_private(SERVICE, Path("/etc/passwd"), remote)

    assert key.ok and "mode 0600 (root:root)" in key.reason
    assert not passwd.ok and "world-readable" in passwd.reason


def test_the_probes_share_one_connection(remote: HostSpec) -> None:
    disk_headroom(SERVICE, DiskCheck(path=Path("/")), remote)
    master = SESSIONS.session(remote).master_pid()
    memory_headroom(SERVICE, remote)

    assert master is not None and SESSIONS.session(remote).master_pid() == master


def test_an_unreachable_host_is_a_failed_check_in_one_line(tmp_path: Path) -> None:
    [port] = free_ports(1)
    nowhere = HostSpec.model_validate(
        {"url": f"ssh://ops@127.0.0.1:{port}", "ssh": {"known_hosts": str(tmp_path / "kh")}}
    )

    seen = disk_headroom(SERVICE, DiskCheck(path=Path("/")), nowhere)

    assert not seen.ok
    assert seen.reason.startswith(f"ssh://ops@127.0.0.1:{port} disk /: cannot inspect the host: ")
    assert "unreachable" in seen.reason and "\n" not in seen.reason
