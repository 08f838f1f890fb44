"""Every planned experiment, checked before anything runs: the names it uses, the runtime its
fault acts through, the undo that runtime can do, and what the machine must allow."""

from pathlib import Path

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath
from opsproof.faults import cgroup_v2
from opsproof.faults.feasibility import machine
from opsproof.faults.feasibility.cgroup_v2 import host_process_problems, local_group_problems
from opsproof.faults.feasibility.container import Engine, container_problems
from opsproof.faults.feasibility.dependants import dependant_way_back
from opsproof.faults.feasibility.load import load_problems
from opsproof.faults.feasibility.problem import Infeasible
from opsproof.faults.feasibility.process import process_problems
from opsproof.faults.feasibility.references import (
    experiment_name_problems,
    opt_in_problems,
    plan_name_problems,
)
from opsproof.faults.feasibility.unit import unit_problems

PLAN: KeyPath = ("chaos_plan",)


def plan_problems(
    name: str, environment: cfg.Environment, state_dir: Path, base_dir: Path | None = None
) -> list[Infeasible]:
    """Every reason the environment's chaos plan cannot run and be undone; empty when it can.
    ``base_dir``: the config file's directory, where background loads' profiles are."""
    problems = opt_in_problems(name, environment)
    if problems or environment.chaos_plan is None:
        return problems
    plan = environment.chaos_plan
    problems = plan_name_problems(environment, plan)
    if plan.experiments:
        problems += machine.ledger(PLAN, state_dir)
    engine = Engine()
    try:
        for index, experiment in enumerate(plan.experiments):
            at = (*PLAN, "experiments", index)
            problems += _experiment(name, environment, experiment, at, state_dir, engine)
            problems += load_problems(name, environment, experiment, at, base_dir)
    finally:
        engine.close()
    return problems


def experiment_problems(
    name: str,
    environment: cfg.Environment,
    experiment: cfg.ChaosExperimentSpec,
    state_dir: Path | None,
    base_dir: Path | None = None,
) -> list[Infeasible]:
    """The problems of one experiment; without ``state_dir`` only the names it uses (and its
    load's, whose files are read given ``base_dir``)."""
    problems = opt_in_problems(name, environment)
    if problems or environment.chaos_plan is None:
        return problems
    at = _path_of(environment.chaos_plan, experiment)
    load = load_problems(name, environment, experiment, at, base_dir)
    if state_dir is None:
        return experiment_name_problems(name, environment, experiment, at) + load
    engine = Engine()
    try:
        problems = machine.ledger(PLAN, state_dir)
        return problems + _experiment(name, environment, experiment, at, state_dir, engine) + load
    finally:
        engine.close()


def _path_of(plan: cfg.ChaosPlanSpec, experiment: cfg.ChaosExperimentSpec) -> KeyPath:
    index = next((i for i, e in enumerate(plan.experiments) if e is experiment), None)
    if index is None and experiment in plan.experiments:
        index = plan.experiments.index(experiment)
    return (*PLAN, "experiments", experiment.name if index is None else index)


def _experiment(
    name: str,
    environment: cfg.Environment,
    experiment: cfg.ChaosExperimentSpec,
    at: KeyPath,
    state_dir: Path,
    engine: Engine,
) -> list[Infeasible]:
    problems = experiment_name_problems(name, environment, experiment, at)
    if experiment.fault.service in environment.services:
        problems += _way_back(environment, experiment, (*at, "fault"), state_dir, engine)
    return problems + dependant_way_back(environment, experiment, at, state_dir, engine)


def _way_back(
    environment: cfg.Environment,
    experiment: cfg.ChaosExperimentSpec,
    at: KeyPath,
    state_dir: Path,
    engine: Engine,
) -> list[Infeasible]:
    """Whether the fault can be injected and undone through the service's runtime."""
    fault, label = experiment.fault, f"experiment {experiment.name!r}"
    runtime = getattr(environment.services[fault.service], "runtime", None)
    if runtime is not None and runtime.systemd is not None:
        hosts = environment.hosts
        return unit_problems(fault.service, runtime.systemd, fault, experiment.name, at, hosts)
    if isinstance(fault, cfg.DiskFaultSpec) and (runtime is None or runtime.docker is None):
        needed_for = f"{label} fills it (its undo removes the file it allocates)"
        return machine.writable_dir((*at, "path"), fault.path, needed_for)
    if runtime is None:
        message = (
            f"{label} acts on {fault.service!r}, which declares no runtime, so opsproof could "
            f"neither {fault.action} it nor undo that; add runtime: {{process: {{match: TEXT, "
            "start: [program, arg, ...]}}, runtime: {docker: {container: NAME}} or runtime: "
            "{systemd: {unit: NAME.service, host: HOST}}"
        )
        return [Infeasible(("services", fault.service), message, at_key=True)]
    if runtime.docker is not None:
        return container_problems(fault.service, runtime.docker, fault, experiment.name, at, engine)
    assert runtime.process is not None
    if runtime.process.host is not None:
        hosts = dict(environment.hosts)
        return host_process_problems(
            fault.service, runtime.process, fault, experiment.name, at, hosts
        )
    problems = process_problems(fault.service, runtime.process, fault, experiment.name, state_dir)
    return problems + _machine(fault, (*at, "action"), label)


def _machine(fault: cfg.FaultSpec, at: KeyPath, label: str) -> list[Infeasible]:
    """What the fault's mechanism needs from this machine (process runtime)."""
    if isinstance(fault, cfg.MemoryFaultSpec | cfg.CpuFaultSpec) and cgroup_v2.is_v2():
        return local_group_problems(fault, at, label)
    if isinstance(fault, cfg.MemoryFaultSpec):
        problems = machine.program(at, "stress-ng", "stress-ng", f"{label} needs it")
        problems += machine.cgroup(at, "memory", f"{label} limits the service's memory there")
        if fault.victim == "service":
            problems += machine.root(at, f"{label} restores the service's OOM score after it")
        return problems
    if isinstance(fault, cfg.CpuFaultSpec):
        problems = machine.program(at, "stress-ng", "stress-ng", f"{label} needs it")
        return problems + machine.cgroup(at, "cpu", f"{label} puts a CPU quota on the service")
    if isinstance(fault, cfg.NetworkFaultSpec):
        problems = machine.program(at, "nft", "nftables", f"{label} needs it for its rules")
        problems += machine.root(at, f"{label} loads and deletes nftables rules")
        return problems + machine.cgroup(at, "net_cls", f"{label} tags the service's packets")
    return []
