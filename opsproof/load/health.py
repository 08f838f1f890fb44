"""Was the load generator able to do what the profile asked? If not, no verdict stands.

Inconclusive when a generator process used ≥ 90% of a core (Locust's own warning level) for
3 s running, when an arrival-rate scenario began more than 10% fewer iterations than were due,
or when a worker could not start the VUs its share needs.
"""

from dataclasses import dataclass

from opsproof.load.cpu_use import CPU_SATURATED
from opsproof.load.result import LoadResult, ScenarioResult

SUSTAINED_S = 3
SHORTFALL = 0.10


@dataclass(frozen=True)
class Health:
    reasons: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.reasons


def assess(result: LoadResult) -> Health:
    reasons: list[str] = []
    for scenario in result.scenarios:
        reasons += _cpu(scenario) + _shortfall(scenario)
    return Health(tuple(reasons))


def saturated(result: LoadResult) -> list[str]:
    """Only the generators' CPU: a run stopped early by its caller fell short by design."""
    return [reason for scenario in result.scenarios for reason in _cpu(scenario)]


def _cpu(scenario: ScenarioResult) -> list[str]:
    processes = [("master", scenario.master_cpu)] + [
        (f"worker {w.index}", w.cpu) for w in scenario.workers
    ]
    reasons = []
    for name, use in processes:
        longest = use.longest_saturated_s
        if longest >= SUSTAINED_S:
            reasons.append(
                f"{scenario.scenario}: generator CPU saturated ({name} at ≥{CPU_SATURATED:.0f}% "
                f"of a core for {longest} s); add workers or machines"
            )
    return reasons


def _shortfall(scenario: ScenarioResult) -> list[str]:
    reasons = []
    intended = sum(w.intended for w in scenario.workers)
    started = sum(w.started for w in scenario.workers)
    if intended and started < (1 - SHORTFALL) * intended:
        dropped = sum(w.dropped for w in scenario.workers)
        reasons.append(
            f"{scenario.scenario}: achieved {started} of {intended} intended iterations "
            f"({1 - started / intended:.1%} short, {dropped} dropped); raise maxVUs or add workers"
        )
    for worker in scenario.workers:
        if worker.vus_started < worker.vus_needed:
            reasons.append(
                f"{scenario.scenario}: worker {worker.index} started {worker.vus_started} of "
                f"{worker.vus_needed} VUs"
            )
    return reasons
