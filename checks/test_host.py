"""The host (through testinfra): disk and memory headroom, nothing private exposed, secrets kept."""

import pytest

from opsproof.config.models import HostService
from opsproof.probes import host
from opsproof.targets import DiskTarget, FileTarget, PortTarget, Target
from opsproof.verify import Verifier


@pytest.mark.control("SOC2:A1.1", "ISO27001:A.8.6")
def test_disk_headroom(disk_target: DiskTarget, verify: Verifier) -> None:
    verify(lambda: host.disk_headroom(disk_target.service, disk_target.disk))


@pytest.mark.control("SOC2:A1.1", "ISO27001:A.8.6")
def test_memory_headroom(host_target: Target[HostService], verify: Verifier) -> None:
    verify(lambda: host.memory_headroom(host_target.service))


@pytest.mark.control("SOC2:CC6.6", "ISO27001:A.8.20")
def test_private_port_not_public(private_port_target: PortTarget, verify: Verifier) -> None:
    verify(
        lambda: host.private_port_not_public(private_port_target.service, private_port_target.port)
    )


@pytest.mark.control("SOC2:CC6.1", "ISO27001:A.8.3")
def test_secret_file_private(secret_file_target: FileTarget, verify: Verifier) -> None:
    verify(lambda: host.secret_file_private(secret_file_target.service, secret_file_target.path))
