"""The fault contract: prepare (record how to undo), inject, observe the effect.

A fault object only describes until ``prepare`` is called, so ``--dry-run`` can print every
plan without touching anything.
"""

from typing import Protocol, runtime_checkable

from opsproof.errors import OpsproofError
from opsproof.faults.inverse import InverseStep
from opsproof.probes.result import Observation


class Fault(Protocol):
    @property
    def description(self) -> str:
        """What is done, for people: ``SIGKILL process://redis``."""
        ...

    @property
    def target(self) -> str:
        """The runtime id of what is hit: ``process://redis``."""
        ...

    @property
    def undo(self) -> str:
        """How it is reverted, for people (the dry-run plan)."""
        ...

    def prepare(self) -> list[InverseStep]:
        """Check the target and return the inverse; creates nothing visible to the service."""
        ...

    def inject(self) -> None: ...

    def effect(self) -> Observation:
        """Whether the fault is observably in place (ok), with figures: proof it took."""
        ...


def observed_effect(fault: Fault) -> Observation:
    """The fault's effect; one that could not be read (its host lost mid-fault, a counter gone)
    is unproven, so the experiment is judged on it instead of ending in a traceback."""
    try:
        return fault.effect()
    except OpsproofError as error:
        return Observation(False, fault.target, f"the fault's effect was not read: {error}")


@runtime_checkable
class Supervised(Protocol):
    """A fault whose way back belongs to a supervisor (systemd's Restart= after a kill)."""

    def supervision(self) -> Observation | None:
        """Called while the fault still holds, before the revert: whether the supervisor
        brought the service back by itself (with its timing), or None when it has no part."""
        ...
