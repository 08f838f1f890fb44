"""``opsproof config check``: is the file valid, and would a run of this environment start?

Without an environment every environment is checked as written, without reading a variable:
what a pre-commit hook or a CI lint can tell on any machine. With one, that environment is
loaded as a run loads it (variables and the recorded reference stack filled in) and, when it
allows chaos, its plan is checked for faults this machine could not undo, as the chaos suite
does before it starts, and an allowed DR drill for stores its runtime cannot move aside: that
part depends on the machine, so it needs an environment.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from opsproof.config.loader import check_written, declared_stack, load_environment
from opsproof.errors import OpsproofError
from opsproof.evidence.custom_controls import load_run_catalogue
from opsproof.runtimes.launched import StackState

GUESS_MARK = "# GUESS:"
MAX_LISTED = 20
T = TypeVar("T")


@dataclass
class CheckResult:
    problems: list[str] = field(default_factory=list)
    """One line each: ``file:line:col: key: problem; fix``."""
    notes: list[str] = field(default_factory=list)
    """What was not checked, and why; what is left to confirm."""


def check_config(
    path: Path, environment: str | None, state_dir: Path, plan: bool | None = None
) -> CheckResult:
    """Every problem of the config at ``path``; ``plan`` None checks the chaos plan when the
    environment allows chaos, True always (an opt-in missing is then a problem), False never."""
    result = CheckResult()
    _collect(result, lambda: load_run_catalogue(path))
    if environment is None:
        _collect(result, lambda: check_written(path))
        if plan:
            result.notes.append("the chaos plan is checked for one environment: add --env NAME")
    else:
        _check_environment(result, path, environment, state_dir, plan)
    if guesses := _guess_lines(path):
        shown = ", ".join(map(str, guesses[:MAX_LISTED]))
        more = f", … ({len(guesses) - MAX_LISTED} more)" if len(guesses) > MAX_LISTED else ""
        result.notes.append(
            f"{len(guesses)} line(s) still marked '{GUESS_MARK}' (opsproof init's guesses, to "
            f"confirm): {path}:{shown}{more}"
        )
    return result


def _check_environment(
    result: CheckResult, path: Path, name: str, state_dir: Path, plan: bool | None
) -> None:
    stack = _collect(result, lambda: declared_stack(path, name))
    if result.problems:
        return
    if stack and StackState.load(state_dir) is None:
        result.notes.append(
            f"environment {name!r} reads the reference stack (stack: {stack}), and none is "
            f"recorded in {state_dir}: its ${{stack.…}} values were not checked (opsproof stack up)"
        )
        return
    loaded = _collect(result, lambda: load_environment(path, name, stack=_recorded(state_dir)))
    if loaded is None:
        return
    if plan is None:
        plan = loaded.environment.chaos == "allowed" and loaded.environment.chaos_plan is not None
    if plan:
        from opsproof.faults.feasibility import check_chaos_plan

        _collect(result, lambda: check_chaos_plan(loaded, state_dir))
    backup = loaded.environment.backup
    if backup is not None and backup.drill == "allowed" and backup.scenario is not None:
        from opsproof.drill.plan import plan_of

        _collect(result, lambda: plan_of(name, loaded.environment, state_dir))


def _recorded(state_dir: Path) -> Callable[[], StackState | None]:
    return lambda: StackState.load(state_dir)


def _collect(result: CheckResult, check: Callable[[], T]) -> T | None:
    try:
        return check()
    except OpsproofError as error:
        result.problems += [line for line in str(error).splitlines() if line]
        return None


def _guess_lines(path: Path) -> list[int]:
    """The numbers of the lines still marked as a guess."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []  # the checks above say why it cannot be read
    return [number for number, line in enumerate(lines, 1) if GUESS_MARK in line]
