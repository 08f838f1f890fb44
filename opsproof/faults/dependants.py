"""Dependants restarted after a revert (``restart_after_revert``): the experiment's declared
recovery procedure for services that do not reconnect by themselves.

After the fault is reverted each listed dependant has ``restart_grace`` to pass its own
steady-state probes (alive and health command, deep health, PING ...) alone. One that does is
left untouched. One that does not is restarted through its runtime — ledgered like a fault, its
way back "start it if it is down" — and must then pass within the recovery window. The restart
is never silent: it is a finding in the experiment's reason and figures, because a dependant
that needs a human (or a script) to restart it after its dependency returns is one. The
experiment still passes when everything recovered: the restart is the procedure the plan
declared. To fail on it instead, list the dependant in ``steady_state`` and not here.
"""

import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from opsproof.config.models import ChaosExperimentSpec, Environment, RecoveryTargetSpec
from opsproof.errors import OpsproofError, RevertFailed, SafetyError
from opsproof.faults.container_inverse import StartContainer
from opsproof.faults.inverse import InverseStep, StartService
from opsproof.faults.ledger import Ledger
from opsproof.faults.result import Result
from opsproof.faults.steady import SteadyState, steady_state
from opsproof.faults.transaction import injected
from opsproof.faults.unit_inverse import StartUnit
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes import ProcessRuntime, RemoteProcessRuntime, Runtime
from opsproof.runtimes.docker import DockerRuntime
from opsproof.runtimes.systemd import SystemdRuntime
from opsproof.support.waiting import poll
from opsproof.workers import runtime_of

RESTART_TIMEOUT = 60.0
RESTART_LIFETIME = RESTART_TIMEOUT + 30.0
"""The watchdog starts a dependant whose restart this run left half done after this."""


@dataclass(frozen=True)
class Dependant:
    """What became of one dependant after the revert."""

    name: str
    recovered_alone_s: float | None
    """Seconds from the revert to its first pass without help; None when it needed a restart."""
    restarted: bool = False
    healthy_s: float | None = None
    """Seconds from the revert to its first pass after the restart; None when it never passed."""
    problem: str | None = None
    last: str = ""
    """Its last failed observation (why it was restarted, or why it stayed down)."""
    grace: float = 0.0


@dataclass
class Dependants:
    """Every listed dependant's outcome, ready to be added to the experiment's result."""

    outcomes: list[Dependant] = field(default_factory=list)

    def report(self, result: Result) -> None:
        """Figures and a finding for each restart; a restart that failed, or a dependant still
        unhealthy after it, fails the experiment (unless it was inconclusive already)."""
        if not self.outcomes:
            return
        restarted = [o.name for o in self.outcomes if o.restarted]
        result.figures["restarted_after_revert"] = Figure(
            ", ".join(restarted) or "none", target="none"
        )
        for outcome in self.outcomes:
            if outcome.recovered_alone_s is not None:
                result.figures[f"{outcome.name}_recovered_alone_s"] = Figure(
                    round(outcome.recovered_alone_s, 3), "s"
                )
            if outcome.healthy_s is not None:
                result.figures[f"{outcome.name}_healthy_after_restart_s"] = Figure(
                    round(outcome.healthy_s, 3), "s"
                )
        notes = [_note(o) for o in self.outcomes if o.restarted or o.problem]
        problems = [o.problem for o in self.outcomes if o.problem]
        if problems and result.verdict != "inconclusive":
            earlier = [result.reason] if result.verdict == "failed" else []
            result.verdict, result.reason = "failed", "; ".join([*earlier, *problems])
        elif notes:
            result.reason = "; ".join([r for r in (result.reason, *notes) if r])


def _note(outcome: Dependant) -> str:
    if outcome.problem:
        return outcome.problem
    return (
        f"finding: {outcome.name} did not recover by itself within {outcome.grace:g} s of the "
        f"revert ({outcome.last}) and was restarted through its runtime (restart_after_revert); "
        f"healthy {outcome.healthy_s:.2f} s after the revert"
    )


def hypothesis(experiment: ChaosExperimentSpec) -> str:
    """The procedure in the dry-run plan's words; empty when none is declared."""
    if not experiment.restart_after_revert:
        return ""
    names = ", ".join(experiment.restart_after_revert)
    return (
        f"; restart_after_revert: each of {names} recovers by itself within "
        f"{experiment.restart_grace:g} s of the revert, else it is restarted and that is "
        "reported as a finding"
    )


def recover_dependants(
    environment: Environment,
    state_dir: Path,
    ledger: Ledger,
    experiment: ChaosExperimentSpec,
    recovery: RecoveryTargetSpec,
    reverted_at: float,
) -> Dependants:
    """Give each dependant its grace, restart those that need it, and wait for them within the
    recovery window (``reverted_at``: the revert's start on the monotonic clock)."""
    found = Dependants()
    with ExitStack() as stack:
        for name in experiment.restart_after_revert:
            probes = steady_state(environment, [name], stack, state_dir)
            grace_left = reverted_at + experiment.restart_grace - time.monotonic()
            passed, last = poll(probes.check, _passes, max(0.0, grace_left))
            if passed:
                found.outcomes.append(Dependant(name, time.monotonic() - reverted_at))
                continue
            why = last.reason
            try:
                _restart(_runtime(environment, name, state_dir), ledger, experiment.name)
            except (OpsproofError, OSError) as exc:
                problem = f"{name} did not recover by itself ({why}) and its restart failed: {exc}"
                found.outcomes.append(Dependant(name, None, True, None, problem, why))
                continue
            left = reverted_at + recovery.within - time.monotonic()
            healthy, after = _healthy_within(probes, left)
            if healthy:
                took = time.monotonic() - reverted_at
                grace = experiment.restart_grace
                found.outcomes.append(Dependant(name, None, True, took, None, why, grace))
            else:
                problem = (
                    f"{name} did not recover by itself ({why}) nor within "
                    f"{recovery.within:g} s of the revert after a restart: {after}"
                )
                found.outcomes.append(Dependant(name, None, True, None, problem, why))
    return found


def _runtime(environment: Environment, name: str, state_dir: Path) -> Runtime:
    spec = getattr(environment.services[name], "runtime", None)
    if spec is None:  # feasibility refuses this before the run; said plainly if it gets here
        raise SafetyError(f"services.{name}: no runtime declared, so it cannot be restarted")
    return runtime_of(name, spec, state_dir, environment.hosts)


def _passes(observation: Observation) -> bool:
    return observation.ok


def _healthy_within(probes: SteadyState, timeout: float) -> tuple[bool, str]:
    passed, last = poll(probes.check, _passes, max(0.0, timeout))
    return passed, last.reason


def _restart(runtime: Runtime, ledger: Ledger, experiment: str) -> None:
    """Restart through the runtime as a ledgered transaction whose way back starts it if it
    was left down (a run killed between the stop and the start)."""
    restart = _Restart(runtime)
    with injected(restart, ledger, uuid.uuid4().hex[:12], experiment, RESTART_LIFETIME):
        pass
    effect = restart.effect()
    if not effect.ok:
        raise RevertFailed(effect.reason)


class _Restart:
    """A restart in the fault contract's shape, so the ledger and the watchdog know it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._before: list[int] = []

    @property
    def description(self) -> str:
        return f"restart after revert of {self.runtime.id}"

    @property
    def target(self) -> str:
        return self.runtime.id

    @property
    def undo(self) -> str:
        return f"start {self.runtime.id} if it is down"

    def prepare(self) -> list[InverseStep]:
        self._before = self.runtime.find()
        if isinstance(self.runtime, DockerRuntime):
            return [StartContainer(target=self.runtime.target)]
        if isinstance(self.runtime, SystemdRuntime) and self.runtime.target is not None:
            return [StartUnit(target=self.runtime.target)]
        assert isinstance(self.runtime, ProcessRuntime | RemoteProcessRuntime)
        return [StartService(target=self.runtime.target)]

    def inject(self) -> None:
        self.runtime.restart(RESTART_TIMEOUT)

    def effect(self) -> Observation:
        now = self.runtime.find()
        ok = bool(now) and not set(now) & set(self._before)
        seen = f"pids {self._before} -> {now}"
        return Observation(ok, self.target, f"{self.description}: {seen}")
