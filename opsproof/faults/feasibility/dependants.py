"""``restart_after_revert``: each dependant is a service with probes to judge its recovery and a
runtime that can restart it (and start it again should the run die half way)."""

from pathlib import Path

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath, did_you_mean
from opsproof.faults.feasibility.cgroup_v2 import host_process_problems
from opsproof.faults.feasibility.container import Engine, container_problems
from opsproof.faults.feasibility.problem import Infeasible
from opsproof.faults.feasibility.process import process_problems
from opsproof.faults.feasibility.unit import unit_problems

_PROBED = (cfg.ProcessService, cfg.RedisService, cfg.PostgresService, cfg.HttpService)
_RUNTIME_EXAMPLE = "runtime: {process: {match: TEXT, start: [program, ...]}}"


def dependant_name_problems(
    environment: cfg.Environment, experiment: cfg.ChaosExperimentSpec, at: KeyPath
) -> list[Infeasible]:
    """Each name is a service whose recovery can be judged and which declares a runtime."""
    problems = []
    for index, name in enumerate(experiment.restart_after_revert):
        path = (*at, "restart_after_revert", index)
        service = environment.services.get(name)
        if service is None:
            names = list(environment.services)
            message = (
                f"{name!r} is not a service here{did_you_mean(name, names)} "
                f"(services: {', '.join(names)})"
            )
            problems.append(Infeasible(path, message))
        elif not isinstance(service, _PROBED) or _unprobed_http(service):
            message = (
                f"{name!r} is a {service.kind} service without a probe to judge its recovery; "
                "list a process, redis, postgres or http service (with health or deep_health)"
            )
            problems.append(Infeasible(path, message))
        elif service.runtime is None:
            message = (
                f"{name!r} declares no runtime, so it could not be restarted after the revert; "
                f"add {_RUNTIME_EXAMPLE} to services.{name}"
            )
            problems.append(Infeasible(path, message))
        elif environment.chaos_plan and name not in environment.chaos_plan.may_hit:
            message = (
                f"refused: {name!r} would be restarted after the revert but is not in "
                "chaos_plan.may_hit; add it there to allow acting on it"
            )
            problems.append(Infeasible(path, message))
        elif name in experiment.restart_after_revert[:index]:
            message = f"{name!r} is listed twice; list each dependant once"
            problems.append(Infeasible(path, message))
    return problems


def _unprobed_http(service: cfg.Service) -> bool:
    return isinstance(service, cfg.HttpService) and not (service.health or service.deep_health)


def dependant_way_back(
    environment: cfg.Environment,
    experiment: cfg.ChaosExperimentSpec,
    at: KeyPath,
    state_dir: Path,
    engine: Engine,
) -> list[Infeasible]:
    """Whether the runtime of each dependant could restart it and start it again."""
    problems: list[Infeasible] = []
    for name in dict.fromkeys(experiment.restart_after_revert):
        runtime = getattr(environment.services.get(name), "runtime", None)
        if runtime is None:
            continue  # named above
        restart = cfg.ProcessFaultSpec(action="restart", service=name)
        label = f"{experiment.name} (restart_after_revert)"
        if runtime.docker is not None:
            problems += container_problems(name, runtime.docker, restart, label, at, engine)
        elif runtime.systemd is not None:
            hosts = environment.hosts
            problems += unit_problems(name, runtime.systemd, restart, label, at, hosts)
        elif runtime.process is not None and runtime.process.host is not None:
            hosts = dict(environment.hosts)
            problems += host_process_problems(name, runtime.process, restart, label, at, hosts)
        else:
            problems += process_problems(name, runtime.process, restart, label, state_dir)
    return problems
