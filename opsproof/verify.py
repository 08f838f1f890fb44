"""The ``verify`` fixture's engine: run a probe (with convergence), record figures, judge."""

from collections.abc import Callable

import pytest

from opsproof.config.models import Convergence
from opsproof.evidence.conclusion import conclude
from opsproof.evidence.properties import figure_property
from opsproof.evidence.verdict import Verdict
from opsproof.probes.polling import converge
from opsproof.probes.result import Observation


class Verifier:
    """Called by checks as ``verify(lambda: probe(...))``: fails the test with the probe's reason.

    The probe is retried until the environment's convergence deadline, so a gate run right after
    a deploy waits for the service to settle and records how long it took.
    """

    def __init__(self, node: pytest.Item, convergence: Convergence) -> None:
        self._node = node
        self._convergence = convergence

    def __call__(self, probe: Callable[[], Observation]) -> Observation:
        __tracebackhide__ = True  # a verdict is reported at the check's line
        timeout, interval = self._convergence.timeout, self._convergence.interval
        observation = converge(probe, timeout, interval).observation if timeout else probe()
        for name, figure in observation.figures.items():
            self._node.user_properties.append(figure_property(name, figure))
        if not observation.applicable:
            conclude(self._node, Verdict.NOT_APPLICABLE, f"not applicable: {observation.reason}")
        if not observation.ok:
            pytest.fail(observation.reason, pytrace=False)
        return observation
