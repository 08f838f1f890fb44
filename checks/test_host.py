"""The host (through testinfra; over opsproof's SSH session for a host under hosts:): disk and
memory headroom, nothing private exposed, secrets kept."""

import pytest

from opsproof.probes import host
from opsproof.targets import DiskTarget, FileTarget, HostTarget, PortTarget
from opsproof.verify import Verifier


@pytest.mark.control("SOC2:A1.1", "ISO27001:A.8.6")
def test_disk_headroom(disk_target: DiskTarget, verify: Verifier) -> None:
    verify(lambda: host.disk_headroom(disk_target.service, disk_target.disk, disk_target.remote))


@pytest.mark.control("SOC2:A1.1", "ISO27001:A.8.6")
def test_memory_headroom(host_target: HostTarget, verify: Verifier) -> None:
    verify(lambda: host.memory_headroom(host_target.service, host_target.remote))


@pytest.mark.control("SOC2:CC6.6", "ISO27001:A.8.20")
def test_private_port_not_public(private_port_target: PortTarget, verify: Verifier) -> None:
    target = private_port_target
    verify(lambda: host.private_port_not_public(target.service, target.port, target.remote))


@pytest.mark.control("SOC2:CC6.1", "ISO27001:A.8.3")
def test_secret_file_private(secret_file_target: FileTarget, verify: Verifier) -> None:
    target = secret_file_target
    verify(lambda: host.secret_file_private(target.service, target.path, target.remote))
