"""The one verdict vocabulary: every item, experiment, control and run is judged in these words.

Only ``passed`` says the target was exercised and met its promise. Everything a run did not
verify — a fault that was never injected, a check with nothing to compare, a dry run, a control
no check evidenced — has its own word and is never counted as a pass, in any report or in the
history.
"""

from enum import StrEnum
from typing import Literal


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"
    """Ran, but could not tell: the fault had no observable effect, the generator was
    overloaded."""
    NOT_APPLICABLE = "not_applicable"
    """Nothing to judge in this environment: no target declared, nothing to compare with."""
    WAIVED = "waived"
    """Failed or absent, but covered by an active waiver (approver, ticket, expiry)."""
    NOT_EVALUATED = "not_evaluated"
    """Not run: a dry run, a skip, a deselected item, a control no check evidenced."""
    NOT_INJECTED = "not_injected"
    """A chaos experiment whose steady state did not hold before the fault: nothing injected."""


Judgement = Literal["passed", "failed", "inconclusive"]
"""What a measurement can conclude (a load threshold, an alert's detection)."""
ExperimentVerdict = Literal["passed", "failed", "inconclusive", "not_injected"]
"""What an experiment can conclude (a subset of :class:`Verdict`, named for the schema)."""
CheckVerdict = Literal[
    "passed", "failed", "inconclusive", "not_applicable", "waived", "not_evaluated"
]
"""What one pytest item can conclude; an experiment never injected is an inconclusive item."""
ControlVerdict = Literal["passed", "failed", "waived", "not_evaluated"]
RunVerdict = Literal["passed", "failed", "inconclusive"]

INCONCLUSIVE_EXIT = 6
"""Exit status of a run whose verdict is inconclusive (pytest's own statuses are 0 to 5)."""
