"""The fault catalogue: a fault from its config entry, ready to prepare and inject."""

from pathlib import Path

from opsproof.config import models as cfg
from opsproof.errors import SafetyError
from opsproof.faults import cgroup_v2
from opsproof.faults.base import Fault
from opsproof.faults.cgroup_v2_faults import GroupCpuSaturation, GroupMemoryExhaustion
from opsproof.faults.container_disk import ContainerDiskFill
from opsproof.faults.container_faults import docker_fault
from opsproof.faults.container_network import ContainerNetworkPartition
from opsproof.faults.disk import DiskFill
from opsproof.faults.host_faults import UnitDiskFill, UnitNetworkPartition
from opsproof.faults.network import NetworkDisruption, dependency_port, endpoint
from opsproof.faults.process_faults import ProcessFault
from opsproof.faults.stress import CpuSaturation, MemoryExhaustion
from opsproof.faults.unit_faults import unit_fault
from opsproof.runtimes import process_target
from opsproof.runtimes.docker import docker_target
from opsproof.runtimes.systemd import systemd_target


def build_fault(
    spec: cfg.FaultSpec,
    environment: cfg.Environment,
    state_dir: Path,
    fault_id: str,
    lifetime: float,
) -> Fault:
    """Describe-only until ``prepare``: building a fault touches nothing (``--dry-run``)."""
    unit = systemd_target(environment, spec.service)
    if unit is not None:
        if isinstance(spec, cfg.NetworkFaultSpec):
            port = dependency_port(spec, environment.services[spec.dependency])
            return UnitNetworkPartition(spec, unit, port, fault_id, lifetime)
        if isinstance(spec, cfg.DiskFaultSpec):
            return UnitDiskFill(spec, unit, fault_id, lifetime)
        return unit_fault(spec, unit, fault_id, lifetime)
    container = docker_target(environment, spec.service)
    if container is not None:
        if isinstance(spec, cfg.DiskFaultSpec):
            return ContainerDiskFill(spec, container, fault_id)
        if isinstance(spec, cfg.NetworkFaultSpec):
            port = dependency_port(spec, environment.services[spec.dependency])
            return ContainerNetworkPartition(spec, container, spec.address, port, fault_id)
        return docker_fault(spec, container, fault_id, lifetime)
    if isinstance(spec, cfg.DiskFaultSpec):
        return DiskFill(spec, fault_id)
    target = process_target(environment, spec.service, state_dir)
    if isinstance(spec, cfg.ProcessFaultSpec):
        return ProcessFault(spec.action, target, fault_id, lifetime)
    v2 = target.host is not None or cgroup_v2.is_v2()
    if isinstance(spec, cfg.MemoryFaultSpec):
        if v2:
            return GroupMemoryExhaustion(spec, target, fault_id, lifetime)
        return MemoryExhaustion(spec, target, fault_id, lifetime)
    if isinstance(spec, cfg.CpuFaultSpec):
        if v2:
            return GroupCpuSaturation(spec, target, fault_id, lifetime)
        return CpuSaturation(spec, target, fault_id, lifetime)
    if target.host is not None:
        raise SafetyError(
            f"services.{spec.service}: a {spec.action} fault acts on local processes only; "
            "on a host under hosts: use kill, stop, restart, pause, memory or cpu"
        )
    assert isinstance(spec, cfg.NetworkFaultSpec)
    address, port = endpoint(environment.services[spec.dependency])
    dependency = (spec.address or address, spec.port or port)
    return NetworkDisruption(spec, target, dependency, fault_id, lifetime)
