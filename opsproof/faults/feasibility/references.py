"""Who may be hit and what is named: the opt-in, ``may_hit``, ``steady_state``, each fault's
service and dependency, and the services its expectations ask."""

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath, did_you_mean
from opsproof.faults.feasibility.dependants import dependant_name_problems
from opsproof.faults.feasibility.problem import Infeasible

DEPENDENCY_KINDS = (cfg.RedisService, cfg.PostgresService, cfg.HttpService)


def opt_in_problems(name: str, environment: cfg.Environment) -> list[Infeasible]:
    """The environment allows chaos and plans some; nothing else is worth checking if not."""
    where = f"environments.{name}"
    if environment.chaos != "allowed":
        message = (
            f"refused: environment {name!r} does not allow chaos ({where}.chaos is "
            f"{environment.chaos!r}); set {where}.chaos: allowed to opt in"
        )
        return [Infeasible(("chaos",), message)]
    if environment.chaos_plan is None:
        message = (
            f"environment {name!r} declares no experiments: add {where}.chaos_plan with "
            "may_hit and experiments"
        )
        return [Infeasible(("chaos_plan",), message)]
    return []


def plan_name_problems(environment: cfg.Environment, plan: cfg.ChaosPlanSpec) -> list[Infeasible]:
    problems = []
    for key, names in (("may_hit", plan.may_hit), ("steady_state", plan.steady_state or [])):
        for index, service in enumerate(names):
            if service not in environment.services:
                message = _unknown(service, environment)
                problems.append(Infeasible(("chaos_plan", key, index), message))
    return problems


def experiment_name_problems(
    name: str, environment: cfg.Environment, experiment: cfg.ChaosExperimentSpec, at: KeyPath
) -> list[Infeasible]:
    """Problems of the names one experiment uses; ``at`` is its path in the environment."""
    assert environment.chaos_plan is not None
    fault, may_hit = experiment.fault, environment.chaos_plan.may_hit
    problems = []
    if fault.service not in environment.services:
        problems.append(Infeasible((*at, "fault", "service"), _unknown(fault.service, environment)))
    elif fault.service not in may_hit:
        message = (
            f"refused: experiment {experiment.name!r} would hit {fault.service!r}, which is not "
            f"in environments.{name}.chaos_plan.may_hit ({', '.join(may_hit) or 'empty'}); add "
            "it there to allow faults on it"
        )
        problems.append(Infeasible((*at, "fault", "service"), message))
    if isinstance(fault, cfg.NetworkFaultSpec):
        problems += _dependency(environment, fault, (*at, "fault", "dependency"))
    for index, expectation in enumerate(experiment.expect):
        if expectation.service is None:  # a flow: its services are checked with the config
            continue
        service = environment.services.get(expectation.service)
        path = (*at, "expect", index, "service")
        if service is None:
            problems.append(Infeasible(path, _unknown(expectation.service, environment)))
        elif not isinstance(service, cfg.HttpService):
            http = ", ".join(environment.services_of(cfg.HttpService)) or "none declared"
            message = (
                f"{expectation.service!r} is a {service.kind} service; an expectation asks an "
                f"http service (http services: {http})"
            )
            problems.append(Infeasible(path, message))
    return problems + dependant_name_problems(environment, experiment, at)


def _dependency(
    environment: cfg.Environment, fault: cfg.NetworkFaultSpec, path: KeyPath
) -> list[Infeasible]:
    service = environment.services.get(fault.dependency)
    if service is None:
        return [Infeasible(path, _unknown(fault.dependency, environment))]
    if not isinstance(service, DEPENDENCY_KINDS):
        message = (
            f"{fault.dependency!r} is a {service.kind} service; a network fault needs a redis, "
            "postgres or http dependency, whose address it can match"
        )
        return [Infeasible(path, message)]
    return []


def _unknown(service: str, environment: cfg.Environment) -> str:
    names = list(environment.services)
    return (
        f"{service!r} is not a service here{did_you_mean(service, names)} "
        f"(services: {', '.join(names)})"
    )
