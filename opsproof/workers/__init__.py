"""Services that serve no HTTP (``kind: process``: queue workers, schedulers): alive through
their runtime, and the runtime any service with one is acted on through."""

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

from opsproof.config.models import HostSpec, ProcessService, RuntimeSpec
from opsproof.errors import SafetyError
from opsproof.probes.command import health_command
from opsproof.probes.result import Observation
from opsproof.probes.systemd import declared_unit_running
from opsproof.runtimes import ProcessTarget, Runtime, process_runtime
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.runtimes.systemd import SystemdRuntime, SystemdTarget, local_systemd_refusal
from opsproof.workers.alive import process_alive


def runtime_of(
    name: str, spec: RuntimeSpec, state_dir: Path, hosts: Mapping[str, HostSpec] | None = None
) -> Runtime:
    """The runtime service ``name`` declares: its container, its systemd unit on one of
    ``hosts``, or its local processes (``state_dir``: the reference stack's record, for
    ``component`` runtimes)."""
    if spec.docker is not None:
        return DockerRuntime(DockerTarget(name=name, container=spec.docker.container))
    if spec.systemd is not None:
        unit = spec.systemd
        if unit.host is None:
            raise SafetyError(f"services.{name}.runtime.systemd: {local_systemd_refusal()}")
        host = (hosts or {})[unit.host]
        return SystemdRuntime.of(SystemdTarget(name=name, unit=unit.unit, host=host))
    assert spec.process is not None
    process = spec.process
    on = (hosts or {})[process.host] if process.host is not None else None
    return process_runtime(ProcessTarget(name=name, spec=process, state_dir=state_dir, host=on))


def process_probes(
    name: str,
    service: ProcessService,
    state_dir: Path,
    hosts: Mapping[str, HostSpec] | None = None,
) -> list[Callable[[], Observation]]:
    """What says a process service is healthy: alive (a systemd unit: running), then its health
    command if declared."""
    probes: list[Callable[[], Observation]] = []
    unit = service.runtime.systemd
    if unit is not None and unit.host is not None:
        probes.append(partial(declared_unit_running, (hosts or {})[unit.host], unit.unit))
    elif unit is not None:
        refusal = Observation(False, unit.unit, f"{unit.unit}: {local_systemd_refusal()}")
        probes.append(lambda: refusal)
    else:
        probes.append(partial(process_alive, runtime_of(name, service.runtime, state_dir, hosts)))
    if service.health is not None:
        probes.append(partial(health_command, name, service.health))
    return probes
