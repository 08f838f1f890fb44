"""A reason a planned fault cannot be run and undone, and the refusal that lists them.

A problem names the config key to change (relative to the environment), so the refusal reads
like a config error: ``file:line:col: environments.lab.services.redis.runtime.process: ...``.
"""

from dataclasses import dataclass
from pathlib import Path

from opsproof.config.problems import KeyPath, Problem, config_error, dotted
from opsproof.config.source import parse
from opsproof.errors import ConfigError, SafetyError


@dataclass(frozen=True)
class Infeasible:
    """What is wrong and the fix, at ``path`` inside the environment's settings."""

    path: KeyPath
    message: str
    at_key: bool = False
    """Point at the key naming ``path`` (a whole service entry) rather than at its value."""


def refusal(
    environment_name: str,
    problems: list[Infeasible],
    source: Path | None = None,
    secrets: frozenset[str] = frozenset(),
) -> SafetyError:
    """One SafetyError listing every problem once, one line each; with ``source``, each line
    starts with the file, line and column where the key was written."""
    full = [(("environments", environment_name, *p.path), p) for p in problems]
    if source is not None:
        try:
            parsed = parse(source.read_text(encoding="utf-8"), str(source))
        except (OSError, UnicodeDecodeError, ConfigError):
            pass  # changed under us since it was loaded: say what is wrong without the line
        else:
            located = [
                Problem(parsed.locate(path, key=p.at_key), path, p.message) for path, p in full
            ]
            return SafetyError(str(config_error(parsed.source, located, secrets)))
    lines = dict.fromkeys(f"{dotted(path)}: {p.message}" for path, p in full)
    return SafetyError("\n".join(lines))
