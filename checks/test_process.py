"""Processes that serve no HTTP (``kind: process``, a queue worker): running, and healthy by
their own health command."""

from pathlib import Path

import pytest

from opsproof.config.loader import LoadedEnvironment
from opsproof.config.models import ProcessService
from opsproof.probes.command import health_command
from opsproof.targets import Target
from opsproof.verify import Verifier
from opsproof.workers import runtime_of
from opsproof.workers.alive import process_alive

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.16")


def test_process_alive(
    process_service_target: Target[ProcessService],
    stack_state_dir: Path,
    ops_environment: LoadedEnvironment,
    verify: Verifier,
) -> None:
    service = process_service_target.service
    hosts = ops_environment.environment.hosts
    runtime = runtime_of(process_service_target.name, service.runtime, stack_state_dir, hosts)
    verify(lambda: process_alive(runtime))


def test_process_health(process_health_target: Target[ProcessService], verify: Verifier) -> None:
    health = process_health_target.service.health
    assert health is not None
    verify(lambda: health_command(process_health_target.name, health))
