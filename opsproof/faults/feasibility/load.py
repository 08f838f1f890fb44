"""An experiment's background load: allowed by the environment, a service to load, a profile
that reads, a locustfile that exists; checked before anything runs, located like the rest."""

from pathlib import Path

from opsproof.config import models as cfg
from opsproof.config.problems import KeyPath
from opsproof.errors import ConfigError
from opsproof.faults.background import loaded_service, locustfile_of, profile_of
from opsproof.faults.feasibility.problem import Infeasible


def load_problems(
    name: str,
    environment: cfg.Environment,
    experiment: cfg.ChaosExperimentSpec,
    at: KeyPath,
    base_dir: Path | None,
) -> list[Infeasible]:
    """Empty when the experiment has no load or its load can run; files are read only when
    ``base_dir`` (the config file's directory) is known."""
    spec, here = experiment.load, (*at, "load")
    if spec is None:
        return []
    if environment.load != "allowed":
        message = (
            f"refused: experiment {experiment.name!r} sends background load, and environment "
            f"{name!r} does not allow load (environments.{name}.load is {environment.load!r}); "
            f"set environments.{name}.load: allowed to opt in"
        )
        return [Infeasible(here, message, at_key=True)]
    problems = []
    service = loaded_service(environment, spec)
    if service not in environment.services_of(cfg.HttpService):
        http = ", ".join(environment.services_of(cfg.HttpService)) or "none declared"
        message = f"no http service {service!r} to load; name one with service: ({http})"
        problems.append(Infeasible(here, message, at_key=True))
    if base_dir is None:
        return problems
    try:
        profile_of(spec, base_dir)
    except ConfigError as error:
        first = str(error).strip().splitlines()[0]
        message = f"not a usable load profile: {first}; fix the profile or point at another"
        problems.append(Infeasible((*here, "profile"), message))
    locustfile = locustfile_of(spec, base_dir)
    if not locustfile.is_file():
        message = f"{locustfile} is not a file; point at the locustfile with its user classes"
        problems.append(Infeasible((*here, "locustfile"), message))
    return problems
