"""Run and control verdicts: nothing that did not exercise the target passes. A control in scope
without a passed check is not_evaluated; waivers turn failures and absences into waived, and
nothing else; a run with no passed item is inconclusive, never passed."""

from hypothesis import given
from hypothesis import strategies as st

from opsproof.evidence.model import CHECK_VERDICTS, CheckRecord
from opsproof.evidence.verdicts import control_verdicts, run_verdict

CONTROLS = ["SOC2:CC6.1", "SOC2:CC7.2", "SOC2:CC8.1"]


def _check(outcome: str, *controls: str) -> CheckRecord:
    return CheckRecord(f"test_{outcome}_{'_'.join(controls)}", outcome, 0.1, list(controls))


def test_a_control_in_scope_with_no_executed_check_is_not_evaluated() -> None:
    verdicts = control_verdicts([_check("not_applicable", "SOC2:CC7.2")], ["SOC2:CC8.1"], set())
    assert verdicts == {"SOC2:CC7.2": "not_evaluated", "SOC2:CC8.1": "not_evaluated"}


def test_one_failed_check_fails_the_control_however_many_passed() -> None:
    checks = [_check("passed", "SOC2:CC7.2"), _check("failed", "SOC2:CC7.2")]
    assert control_verdicts(checks, [], set()) == {"SOC2:CC7.2": "failed"}


def test_a_control_waiver_turns_failure_and_absence_into_waived_but_not_a_pass() -> None:
    checks = [_check("failed", "SOC2:CC7.2", "SOC2:CC8.1"), _check("passed", "SOC2:CC6.1")]
    waived = {"SOC2:CC7.2", "SOC2:CC6.1", "SOC2:A1.1"}
    assert control_verdicts(checks, ["SOC2:A1.1"], waived) == {
        "SOC2:A1.1": "waived",  # no check at all, but an accepted exception
        "SOC2:CC6.1": "passed",  # the waiver was not needed
        "SOC2:CC7.2": "waived",
        "SOC2:CC8.1": "failed",  # the same failing check, but this control is not waived
    }


def test_a_check_waived_by_a_test_waiver_makes_its_controls_waived() -> None:
    checks = [_check("passed", "SOC2:CC7.2"), _check("waived", "SOC2:CC7.2")]
    assert control_verdicts(checks, [], set()) == {"SOC2:CC7.2": "waived"}


@given(
    checks=st.lists(
        st.builds(
            _check,
            st.sampled_from(CHECK_VERDICTS),
            st.sampled_from(CONTROLS),
        ),
        max_size=8,
    ),
    scope=st.lists(st.sampled_from(CONTROLS), max_size=3),
    waived=st.sets(st.sampled_from(CONTROLS)),
)
def test_passed_only_with_a_passed_check_and_none_failed_or_waived(
    checks: list[CheckRecord], scope: list[str], waived: set[str]
) -> None:
    for control, verdict in control_verdicts(checks, scope, waived).items():
        outcomes = {c.verdict for c in checks if control in c.controls}
        if verdict == "passed":
            assert "passed" in outcomes and not outcomes & {"failed", "waived"}
        if verdict == "failed":
            assert "failed" in outcomes and control not in waived
        if verdict == "not_evaluated":
            assert "passed" not in outcomes and control not in waived


def test_a_run_of_inconclusive_not_applicable_and_unevaluated_items_is_inconclusive() -> None:
    checks = [_check(v, "SOC2:CC7.2") for v in ("inconclusive", "not_applicable", "not_evaluated")]
    assert run_verdict(checks, 0) == "inconclusive"
    assert run_verdict([], 5) == "inconclusive"  # pytest: no tests collected


def test_a_failed_item_or_a_failed_pytest_session_fails_the_run() -> None:
    assert run_verdict([_check("passed"), _check("failed")], 1) == "failed"
    assert run_verdict([_check("passed")], 2) == "failed"  # interrupted or a collection error


@given(
    verdicts=st.lists(st.sampled_from(CHECK_VERDICTS), max_size=8),
    exit_status=st.sampled_from([0, 1, 2, 3, 4, 5]),
)
def test_a_run_passes_only_when_an_item_passed_and_none_failed(
    verdicts: list[str], exit_status: int
) -> None:
    verdict = run_verdict([_check(v) for v in verdicts], exit_status)
    if verdict == "passed":
        assert "passed" in verdicts and "failed" not in verdicts and exit_status in (0, 5)
    if "passed" not in verdicts:
        assert verdict != "passed"
