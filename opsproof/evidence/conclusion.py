"""How an item ends with a verdict pytest has no word for: inconclusive, not applicable, not
evaluated.

pytest knows only passed, failed and skipped. An item that ends otherwise records its verdict as
a user property (which xdist and junit.xml carry) and an Allure label (Allure too has no such
status), and is then skipped; the collector reads the property, never the skip's text. A skip
without one is ``not_evaluated``.
"""

from typing import NoReturn

import allure
import pytest

from opsproof.evidence.verdict import Verdict

NOT_APPLICABLE = "not applicable"
"""How the reason of a not-applicable item begins."""
VERDICT_PROPERTY = "opsproof.verdict"
ALLURE_LABEL = "opsproof.verdict"
VERDICT_MARK = "opsproof_verdict"
"""``pytest.param(..., marks=verdict_mark(...))``: an item decided at collection (no target)."""
NOT_PASSED = (Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE, Verdict.NOT_EVALUATED)


def conclude(item: pytest.Item, verdict: Verdict, reason: str) -> NoReturn:
    """End ``item`` with ``verdict`` (inconclusive, not applicable or not evaluated) and why."""
    __tracebackhide__ = True  # the skip is reported at the caller's line, not here
    if verdict not in NOT_PASSED:
        raise ValueError(f"conclude() is for {', '.join(NOT_PASSED)}; not {verdict}")
    item.user_properties.append((VERDICT_PROPERTY, str(verdict)))
    allure.dynamic.label(ALLURE_LABEL, str(verdict))  # type: ignore[no-untyped-call]
    pytest.skip(reason)


def verdict_marks(verdict: Verdict, reason: str) -> list[pytest.MarkDecorator]:
    """Marks for an item whose verdict is known at collection: skipped with that verdict."""
    return [pytest.mark.skip(reason=reason), getattr(pytest.mark, VERDICT_MARK)(str(verdict))]


def mark_verdict(item: pytest.Item) -> None:
    """Turn a collection-time verdict mark into the property the collector reads."""
    mark = item.get_closest_marker(VERDICT_MARK)
    if mark is not None:
        item.user_properties.append((VERDICT_PROPERTY, str(mark.args[0])))
        item.add_marker(pytest.mark.allure_label(str(mark.args[0]), label_type=ALLURE_LABEL))
