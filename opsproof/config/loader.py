"""Load one environment of an ``opsproof.yaml``: parse, interpolate, validate, collect secrets.

Every problem of the file's top level and of the chosen environment is reported at once, each
as ``file:line:column: key: problem; fix``. Only the chosen environment is interpolated, so a
variable that just production needs does not stop a staging run.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from opsproof.config.models import ConfigFile, Environment
from opsproof.config.problems import Problem, config_error, did_you_mean
from opsproof.config.references import Resolver, interpolate
from opsproof.config.sensitive import header_secrets, url_passwords
from opsproof.config.source import ParsedFile, parse
from opsproof.config.validation import validation_problems
from opsproof.errors import ConfigError
from opsproof.stack.state import StackState, default_state_dir

DEFAULT_CONFIG_NAME = "opsproof.yaml"


@dataclass(frozen=True)
class LoadedEnvironment:
    """A validated environment and the values a report must never show."""

    name: str
    environment: Environment
    source: Path
    secrets: frozenset[str]
    """Secret-looking variables' values, header values, URL passwords, the stack's secrets."""


def load_environment(
    path: Path,
    name: str,
    *,
    environ: Mapping[str, str] | None = None,
    stack: Callable[[], StackState | None] | None = None,
) -> LoadedEnvironment:
    """Load environment ``name`` from ``path``; raises ConfigError listing every problem.

    ``environ`` defaults to ``os.environ``. ``stack`` returns the running reference stack
    (default: the recorded state) and is called only if a value uses ``${stack.KEY}``.
    """
    parsed = _read(path)
    problems = _top_level_problems(parsed)
    environments = _environments(parsed)
    if environments is not None and name not in environments:
        problems.append(_unknown_environment(parsed, name, list(environments)))
    data = (environments or {}).get(name)
    if not isinstance(data, dict):
        raise config_error(parsed.source, problems)

    resolver = Resolver(os.environ if environ is None else environ, stack or _recorded_stack)
    prefix = ("environments", name)
    filled = interpolate(data, prefix, resolver, parsed)
    secrets = resolver.secrets | url_passwords(filled.data)
    problems += filled.problems
    try:
        environment = Environment.model_validate(filled.data)
    except ValidationError as exc:
        # a value that could not be interpolated would only repeat its problem as a wrong value
        problems += [
            problem
            for problem in validation_problems(exc, Environment, filled.data, prefix, parsed)
            if not any(problem.path[: len(at)] == at for at in filled.unresolved)
        ]
        raise config_error(parsed.source, problems, secrets) from None
    if problems:
        raise config_error(parsed.source, problems, secrets)
    secrets |= header_secrets(environment)
    return LoadedEnvironment(name, environment, path, frozenset(s for s in secrets if s))


def declared_stack(path: Path, name: str) -> str | None:
    """The environment's ``stack`` as written, without interpolating anything.

    Lets ``opsproof run`` start the reference stack *before* the values that need it are read.
    """
    parsed = _read(path)
    problems = _top_level_problems(parsed)
    environments = _environments(parsed) or {}
    if name not in environments:
        problems.append(_unknown_environment(parsed, name, list(environments)))
    if problems:
        raise config_error(parsed.source, problems)
    data = environments[name]
    stack = data.get("stack") if isinstance(data, dict) else None
    return stack if isinstance(stack, str) else None


def environment_names(path: Path) -> list[str]:
    """The environments declared in ``path``, in file order; raises ConfigError if malformed."""
    parsed = _read(path)
    if problems := _top_level_problems(parsed):
        raise config_error(parsed.source, problems)
    return list(_environments(parsed) or {})


def _read(path: Path) -> ParsedFile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file; create it (examples/compose-stack.yaml is a starting point) "
            "or pass its path with --config"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it ({exc}); save it as UTF-8 text") from None
    return parse(text, str(path))


def _recorded_stack() -> StackState | None:
    return StackState.load(default_state_dir())


def _environments(parsed: ParsedFile) -> dict[str, object] | None:
    """The ``environments`` mapping, or None when the file has none."""
    environments = parsed.data.get("environments") if isinstance(parsed.data, dict) else None
    return environments if isinstance(environments, dict) else None


def _top_level_problems(parsed: ParsedFile) -> list[Problem]:
    """Problems with ``version`` and the shape of ``environments``, not inside environments."""
    if parsed.data is None:
        message = "the file is empty; start it with 'version: 1' and 'environments:'"
        return [Problem(parsed.locate(()), (), message)]
    environments = _environments(parsed)
    shell = parsed.data
    if isinstance(shell, dict) and environments is not None:
        shell = {**shell, "environments": {}}
    problems = []
    try:
        ConfigFile.model_validate(shell)
    except ValidationError as exc:
        problems += validation_problems(exc, ConfigFile, shell, (), parsed)
    for name, settings in (environments or {}).items():
        if not isinstance(settings, dict):
            path = ("environments", name)
            message = "expected a mapping of this environment's settings (services:, smoke:, ...)"
            problems.append(Problem(parsed.locate(path), path, message))
    return problems


def _unknown_environment(parsed: ParsedFile, name: str, known: list[str]) -> Problem:
    path = ("environments",)
    if known:
        hint = did_you_mean(name, known)
        message = f"unknown environment {name!r}{hint} (environments: {', '.join(known)})"
    else:
        message = f"no environments declared; add {name!r} under 'environments:'"
    return Problem(parsed.locate(path, key=True), path, message)
