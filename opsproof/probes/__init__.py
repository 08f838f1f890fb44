"""Read-only observations of a real system, one module per kind.

A probe never raises for a failure of the observed system: an unreachable host, a timeout or a
wrong answer is an :class:`Observation` with ``ok=False`` and a reason a person can act on.
The same probe serves a gate check, a chaos steady-state hypothesis and a DR "healthy again".
"""

from opsproof.probes.polling import Converged, converge
from opsproof.probes.result import Figure, Observation

__all__ = ["Converged", "Figure", "Observation", "converge"]
