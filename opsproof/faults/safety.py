"""Who may be hit: environments opt in (``chaos: allowed``) and list the services faults may
act on; everything else is refused before anything is touched."""

from opsproof.config.models import ChaosExperiment, ChaosPlan, Environment, NetworkFault
from opsproof.errors import SafetyError


def chaos_plan(name: str, environment: Environment) -> ChaosPlan:
    """The environment's plan, if it opted in; a SafetyError that says how to opt in if not."""
    where = f"environments.{name}"
    if environment.chaos != "allowed":
        raise SafetyError(
            f"refused: environment {name!r} does not allow chaos ({where}.chaos is "
            f"{environment.chaos!r}); set {where}.chaos: allowed to opt in"
        )
    if environment.chaos_plan is None:
        raise SafetyError(
            f"environment {name!r} declares no experiments: add {where}.chaos_plan with "
            "may_hit and experiments"
        )
    plan = environment.chaos_plan
    for key, names in (("may_hit", plan.may_hit), ("steady_state", plan.steady_state or [])):
        unknown = [s for s in names if s not in environment.services]
        if unknown:
            raise SafetyError(
                f"{where}.chaos_plan.{key} names {unknown}, which are not services of {name!r} "
                f"(services: {', '.join(environment.services)})"
            )
    return plan


def authorize(name: str, environment: Environment, experiment: ChaosExperiment) -> None:
    """Raise SafetyError unless ``experiment`` may run against this environment."""
    plan = chaos_plan(name, environment)
    fault = experiment.fault
    if fault.service not in plan.may_hit:
        raise SafetyError(
            f"refused: experiment {experiment.name!r} would hit {fault.service!r}, which is not "
            f"in environments.{name}.chaos_plan.may_hit ({', '.join(plan.may_hit) or 'empty'}); "
            "add it there to allow faults on it"
        )
    if isinstance(fault, NetworkFault) and fault.dependency not in environment.services:
        raise SafetyError(
            f"experiment {experiment.name!r}: dependency {fault.dependency!r} is not a service "
            f"of {name!r} (services: {', '.join(environment.services)})"
        )
    for expectation in experiment.expect:
        if expectation.service not in environment.services:
            raise SafetyError(
                f"experiment {experiment.name!r}: expect names service "
                f"{expectation.service!r}, which {name!r} does not declare"
            )
