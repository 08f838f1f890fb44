"""No fault without a way back: before anything is touched, every planned experiment is checked
against what its service's runtime and this machine can do.

A kill needs something that can start the service again (a ``start`` command, the reference
stack's record, a container the engine can start); a memory, CPU or network fault needs its
tools, cgroup controllers and root; a disk fill a writable directory; every fault a writable
ledger. The names a plan uses (``may_hit``, services, dependencies, expectations) are checked
too. Problems are located like config errors (``file:line:col: key: problem; fix``), so the
chaos suite refuses the whole run, dry run included, with nothing injected. Checking reads
only: nothing is mounted, created, signalled or written.
"""

from pathlib import Path

from opsproof.config.loader import LoadedEnvironment
from opsproof.faults.feasibility.check import experiment_problems, plan_problems
from opsproof.faults.feasibility.problem import Infeasible, refusal

__all__ = ["Infeasible", "check_chaos_plan", "experiment_problems", "plan_problems", "refusal"]


def check_chaos_plan(loaded: LoadedEnvironment, state_dir: Path) -> None:
    """Raise SafetyError, one located line per problem, unless every experiment of the
    environment's plan can be run and undone here."""
    problems = plan_problems(loaded.name, loaded.environment, state_dir, loaded.source.parent)
    if problems:
        raise refusal(loaded.name, problems, loaded.source, loaded.secrets)
