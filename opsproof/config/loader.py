"""Load one environment of an ``opsproof.yaml``: read, parse, interpolate, validate, collect
secrets.

Every problem of the file is reported at once, each as ``file:line:column: key: problem; fix``:
the top level, the chosen environment (interpolated), and every other environment as written —
a value holding a ``${...}`` is judged only in the environment being loaded, so a variable that
just production needs does not stop a staging run. The file is read within bounds
(``reading.py``) and parsed once per process however often it is asked for.
"""

import functools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from opsproof.config.models import ConfigFile, Environment
from opsproof.config.problems import Problem, config_error, did_you_mean, excerpt, listing
from opsproof.config.reading import read_config_text
from opsproof.config.references import (
    Resolver,
    StackLookup,
    flow_variables,
    holds_reference,
    interpolate,
    no_stack,
    template_problems,
)
from opsproof.config.sensitive import header_secrets, url_passwords, written_secrets
from opsproof.config.source import ParsedFile, parse
from opsproof.config.validation import validation_problems
from opsproof.errors import ConfigError

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
    stack: StackLookup = no_stack,
) -> LoadedEnvironment:
    """Load environment ``name`` from ``path``; raises ConfigError listing every problem.

    ``environ`` defaults to ``os.environ``. ``stack`` returns the running reference stack's
    values (the plugin passes the recorded state; by default there is none) and is called only
    if a value uses ``${stack.KEY}``.
    """
    parsed = _read(path)
    problems = _top_level_problems(parsed)
    environments = _environments(parsed)
    if environments is not None and name not in environments:
        problems.append(_unknown_environment(parsed, name, list(environments)))
    written = written_secrets(parsed.data)
    problems += _written_problems(parsed, skip=name, secrets=written)
    data = (environments or {}).get(name)
    if not isinstance(data, dict):
        raise config_error(parsed.source, problems, written)

    variables = os.environ if environ is None else environ
    resolver = Resolver(variables, stack)
    prefix = ("environments", name)
    filled = interpolate(data, prefix, resolver, parsed, flow_variables(data, prefix, variables))
    secrets = resolver.secrets | url_passwords(filled.data)
    problems += filled.problems
    try:
        environment = Environment.model_validate(filled.data)
    except ValidationError as exc:
        masked = secrets | written | written_secrets(filled.data)
        # a value that could not be interpolated would only repeat its problem as a wrong value
        problems += [
            problem
            for problem in validation_problems(
                exc, Environment, filled.data, prefix, parsed, secrets=masked
            )
            if not any(problem.path[: len(at)] == at for at in filled.unresolved)
        ]
        raise config_error(parsed.source, problems, masked) from None
    if problems:
        raise config_error(parsed.source, problems, secrets | written)
    secrets |= header_secrets(environment)
    return LoadedEnvironment(name, environment, path, frozenset(s for s in secrets if s))


def declared_stack(path: Path, name: str) -> str | None:
    """The environment's ``stack`` as written, without interpolating anything; raises
    ConfigError for any problem the file shows without interpolation (every environment).

    Lets ``opsproof run`` start the reference stack *before* the values that need it are read,
    and refuse a broken file before starting anything.
    """
    parsed = _read(path)
    problems = _top_level_problems(parsed)
    environments = _environments(parsed) or {}
    if name not in environments:
        problems.append(_unknown_environment(parsed, name, list(environments)))
    written = written_secrets(parsed.data)
    problems += _written_problems(parsed, skip=None, secrets=written)
    if problems:
        raise config_error(parsed.source, problems, written)
    data = environments[name]
    stack = data.get("stack") if isinstance(data, dict) else None
    return stack if isinstance(stack, str) else None


def read_config(path: Path) -> ParsedFile:
    """The config file at ``path``, read within bounds (a regular file of at most 2 MiB) and
    parsed once per process: for anything else that reads it (the ``controls:`` key). The data
    is shared: read it, never change it. Raises ConfigError."""
    return _read(path)


def environment_names(path: Path) -> list[str]:
    """The environments declared in ``path``, in file order; raises ConfigError if malformed."""
    parsed = _read(path)
    if problems := _top_level_problems(parsed):
        raise config_error(parsed.source, problems)
    return list(_environments(parsed) or {})


def _read(path: Path) -> ParsedFile:
    """The parsed file; the data is shared between callers and must not be changed."""
    parsed = _parse_once(read_config_text(path), str(path))
    if isinstance(parsed, ConfigError):
        raise ConfigError(str(parsed))
    return parsed


# the plugin, the evidence catalogue and the runner each ask for the same file: parsing is
# the costly step, and memoised by content, a rewritten file is never served stale
@functools.lru_cache(maxsize=4)
def _parse_once(text: str, source: str) -> ParsedFile | ConfigError:
    try:
        return parse(text, source)
    except ConfigError as error:
        return error


def _written_problems(parsed: ParsedFile, skip: str | None, secrets: set[str]) -> list[Problem]:
    """Problems of every environment but ``skip`` as written, without interpolating: its keys,
    kinds and every value without a ``${...}``; a value holding one (or a check over a part of
    the file that holds one) is judged when that environment is loaded."""
    problems: list[Problem] = []
    for name, data in (_environments(parsed) or {}).items():
        if name == skip or not isinstance(data, dict):
            continue
        prefix = ("environments", name)
        problems += template_problems(data, prefix, parsed)
        try:
            Environment.model_validate(data)
        except ValidationError as exc:
            problems += validation_problems(
                exc, Environment, data, prefix, parsed, secrets=secrets, unless=holds_reference
            )
    return problems


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
        message = f"unknown environment {excerpt(name)}{hint} (environments: {listing(known)})"
    else:
        message = f"no environments declared; add {excerpt(name)} under 'environments:'"
    return Problem(parsed.locate(path, key=True), path, message)


def check_written(path: Path) -> None:
    """Raise ConfigError listing every problem the file shows without interpolating anything:
    the top level and every environment as written (``opsproof config check`` without --env,
    where the variables a run reads are usually not set)."""
    parsed = _read(path)
    written = written_secrets(parsed.data)
    problems = _top_level_problems(parsed) + _written_problems(parsed, None, written)
    if problems:
        raise config_error(parsed.source, problems, written)
