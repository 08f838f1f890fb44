"""Services that serve no HTTP (``kind: process``: queue workers, schedulers): alive through
their runtime, and the runtime any service with one is acted on through."""

from collections.abc import Callable
from functools import partial
from pathlib import Path

from opsproof.config.models import ProcessService, RuntimeSpec
from opsproof.probes.command import health_command
from opsproof.probes.result import Observation
from opsproof.runtimes import ProcessRuntime, ProcessTarget, Runtime
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.workers.alive import process_alive


def runtime_of(name: str, spec: RuntimeSpec, state_dir: Path) -> Runtime:
    """The runtime service ``name`` declares: its container, or its local processes
    (``state_dir``: the reference stack's record, for ``component`` runtimes)."""
    if spec.docker is not None:
        return DockerRuntime(DockerTarget(name=name, container=spec.docker.container))
    assert spec.process is not None
    return ProcessRuntime(ProcessTarget(name=name, spec=spec.process, state_dir=state_dir))


def process_probes(
    name: str, service: ProcessService, state_dir: Path
) -> list[Callable[[], Observation]]:
    """What says a process service is healthy: alive, then its health command if declared."""
    probes: list[Callable[[], Observation]] = [
        partial(process_alive, runtime_of(name, service.runtime, state_dir))
    ]
    if service.health is not None:
        probes.append(partial(health_command, name, service.health))
    return probes
