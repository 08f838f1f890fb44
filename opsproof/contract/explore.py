"""One operation explored: Hypothesis draws cases from Schemathesis's strategies, each is sent
and judged, and every failure is shrunk to a minimal example — within the operation's share
of the budget.

Hypothesis runs with the run's seed (``--api-seed`` replays it) and an example database under
the state directory, keyed by operation, so a failure found once is tried first next time. It
replays each shrunk failure once at the end (``is_final``): the example recorded then is the
minimal one. When the time share runs out, :class:`BudgetSpent` ends the run at once (a
``BaseException``: Hypothesis would shrink an ``Exception``); the smallest example seen so far
stands for each failure.
"""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.control import current_build_context
from hypothesis.database import DirectoryBasedExampleDatabase
from hypothesis.strategies import SearchStrategy

from opsproof.contract.judge import Violation
from opsproof.contract.pacing import Window
from opsproof.contract.wire import ApiCase, NoAnswer, NotSent, Sent
from opsproof.errors import BudgetSpent
from opsproof.support.redact import Redactor
from opsproof.support.text import one_line

EXAMPLE_LIMIT = 300
"""Characters of a minimal example quoted in a reason (the curl line has the whole request)."""


@dataclass(frozen=True)
class ApiFinding:
    """A failed check and the example that shows it."""

    check: str
    title: str
    message: str
    example: str
    curl: str
    status: int | None
    minimal: bool
    """Hypothesis's final replay of its shrunk example (else the smallest seen in time)."""


@dataclass
class Exploration:
    examples: int = 0
    """Cases drawn and tried."""
    answered: int = 0
    unanswered: int = 0
    not_sent: int = 0
    """Generated requests no HTTP client can send as they are (not the service's fault)."""
    slowest_s: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    findings: dict[str, ApiFinding] = field(default_factory=dict)
    stopped: bool = False
    """The time share ran out before Hypothesis was done."""
    problem: str = ""
    """Hypothesis or Schemathesis could not explore the operation at all."""
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Run:
    """What every operation's exploration shares."""

    examples: int
    seed: int
    database: Path


Send = Callable[[ApiCase], Sent | NoAnswer | NotSent]
Judge = Callable[[ApiCase, Sent | NoAnswer], Sequence[Violation]]


def explore(
    strategy: SearchStrategy[ApiCase],
    send: Send,
    judge: Judge,
    window: Window,
    run: Run,
    key: str,
    redactor: Redactor,
) -> Exploration:
    """Draw, send and judge until Hypothesis is done or the window's share is spent."""
    found = Exploration()
    started = time.monotonic()

    def attempt(case: ApiCase) -> None:
        final = current_build_context().is_final
        # the first example goes whatever the share says (only the probe's end stops it):
        # Hypothesis's set-up on a loaded machine must not leave an operation unjudged
        if not final and found.examples and time.monotonic() >= window.share_end:
            raise BudgetSpent
        found.examples += 1
        outcome = send(case)
        if isinstance(outcome, NotSent):
            if outcome.budget_spent and not final:
                raise BudgetSpent
            found.not_sent += 1
            return
        if isinstance(outcome, Sent):
            found.answered += 1
            found.statuses[outcome.answer.status] += 1
            found.slowest_s = max(found.slowest_s, outcome.answer.latency_s)
        else:
            found.unanswered += 1
        violations = judge(case, outcome)
        for violation in violations:
            _record(found, violation, case, outcome, final, redactor)
        failures = [violation.failure for violation in violations]
        if len(failures) == 1:
            raise failures[0]
        if failures:
            raise ExceptionGroup("checks failed", failures)

    test = hypothesis.given(strategy)(attempt)
    test.hypothesis.inner_test._hypothesis_internal_add_digest = key.encode()  # type: ignore[attr-defined]
    test = hypothesis.seed(run.seed)(test)
    test = hypothesis.settings(
        max_examples=run.examples,
        deadline=None,
        database=DirectoryBasedExampleDatabase(run.database),
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=True,
        print_blob=False,
    )(test)
    try:
        test()
    except BudgetSpent:
        found.stopped = True
    except Exception as exc:  # the failures are recorded; anything else is a problem to name
        if not found.findings:
            found.problem = f"{type(exc).__name__}: {one_line(redactor.text(str(exc)), 300)}"
    found.elapsed_s = time.monotonic() - started
    return found


def _record(
    found: Exploration,
    violation: Violation,
    case: ApiCase,
    outcome: Sent | NoAnswer,
    final: bool,
    redactor: Redactor,
) -> None:
    """Keep one finding per check: the final replay's, else the smallest example seen."""
    example = one_line(redactor.text(repr(case)), EXAMPLE_LIMIT)
    status = outcome.answer.status if isinstance(outcome, Sent) else None
    failure = violation.failure
    finding = ApiFinding(
        violation.check, failure.title, redactor.text(failure.message), example, outcome.curl,
        status, final,
    )  # fmt: skip
    kept = found.findings.get(violation.check)
    if kept is None or final or (not kept.minimal and len(example) < len(kept.example)):
        found.findings[violation.check] = finding
