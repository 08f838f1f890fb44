"""Who may be hit: environments opt in (``chaos: allowed``) and list the services faults may
act on; everything else is refused before anything is touched. The checks themselves live in
``opsproof.faults.feasibility``, which also asks whether each fault can be undone."""

from pathlib import Path

from opsproof.config.models import ChaosExperimentSpec, ChaosPlanSpec, Environment
from opsproof.faults.feasibility import experiment_problems, refusal
from opsproof.faults.feasibility.references import opt_in_problems, plan_name_problems


def chaos_plan(name: str, environment: Environment) -> ChaosPlanSpec:
    """The environment's plan, if it opted in and names only its own services; a SafetyError
    that says how to fix it if not."""
    problems = opt_in_problems(name, environment)
    if not problems and environment.chaos_plan is not None:
        problems = plan_name_problems(environment, environment.chaos_plan)
    if problems or environment.chaos_plan is None:
        raise refusal(name, problems)
    return environment.chaos_plan


def authorize(
    name: str,
    environment: Environment,
    experiment: ChaosExperimentSpec,
    state_dir: Path | None = None,
    base_dir: Path | None = None,
) -> None:
    """Raise SafetyError unless ``experiment`` may run against this environment and, given the
    state directory, its fault can be injected and undone here (and its background load run,
    its files read from ``base_dir``)."""
    problems = experiment_problems(name, environment, experiment, state_dir, base_dir)
    if problems:
        raise refusal(name, problems)
