"""An expectation watched during a fault is judged on unrounded times: once its answer has
shown and held for ``hold`` seconds it is met, and no later answer can turn that into a failure
(with ``hold: 0`` a rounded time of first sighting once kept the watch polling)."""

from hypothesis import given
from hypothesis import strategies as st

from opsproof.config.models import ExpectationSpec
from opsproof.faults.watch import Watch, update, watch
from opsproof.probes.result import Observation

OK = Observation(True, "GET /health/deep", "every expectation met")
WRONG = Observation(False, "GET /health/deep", "expected status 503, got 200")

instants = st.floats(min_value=0, max_value=5, allow_nan=False, allow_infinity=False)
holds = st.one_of(st.just(0.0), st.floats(min_value=0, max_value=3, allow_nan=False))
polls = st.lists(instants, min_size=1, max_size=60).map(sorted)


def expectation(hold: float, within: float = 100.0) -> Watch:
    spec = ExpectationSpec.model_validate(
        {"service": "api", "request": {"path": "/health/deep"}, "expect": {"status": 503},
         "within": within, "hold": hold}
    )  # fmt: skip
    return watch(spec, 0)


def feed(watched: Watch, times: list[float], answer: "dict[float, Observation]") -> float | None:
    """Answers in order as ``_observe`` does (it stops polling once the watch is done); the
    elapsed time of the answer that finished it."""
    for elapsed in times:
        update(watched, answer[elapsed], elapsed)
        if watched.done:
            return elapsed
    return None


@given(impact=instants, hold=holds, times=polls)
def test_a_shown_and_held_expectation_is_met_at_the_first_answer_past_its_hold(
    impact: float, hold: float, times: list[float]
) -> None:
    watched = expectation(hold)
    finished = feed(watched, times, {t: OK if t >= impact else WRONG for t in times})
    seen = next((t for t in times if t >= impact), None)
    assert watched.seen_s == seen  # unrounded
    held_until = next((t for t in times if seen is not None and t - seen >= hold), None)
    assert finished == held_until
    assert watched.problem is None


@given(impact=instants, hold=holds, times=polls, wrong_after=instants)
def test_a_shown_expectation_is_met_by_a_matching_answer_past_its_hold_and_broken_before(
    impact: float, hold: float, times: list[float], wrong_after: float
) -> None:
    """After it first showed, the next answers decide: a different one fails it, naming how
    long it held; a matching one at least ``hold`` after the first meets it and polling stops.
    A different answer exactly at the end of the hold still breaks it: the hold is proven only
    by a matching answer."""
    watched = expectation(hold)
    answers = {t: OK if impact <= t < impact + wrong_after else WRONG for t in times}
    feed(watched, times, answers)
    seen = watched.seen_s
    if seen is None:
        assert watched.problem is None and not watched.done
        return
    broke = None
    for t in [seen, *(t for t in times if t > seen)]:
        if not answers[t].ok:
            broke = t
            break
        if t - seen >= hold:
            break
    if broke is None:
        assert watched.problem is None
    else:
        assert watched.problem is not None and "stopped holding after" in watched.problem
        assert f"after {broke - seen:.2f} s" in watched.problem


def test_a_late_answer_is_a_problem_judged_on_the_unrounded_time() -> None:
    watched = expectation(0.0, within=1.0)
    update(watched, WRONG, 0.5)
    update(watched, OK, 1.00004)  # 1.0000 when rounded to 4 places: still late
    assert watched.done and watched.problem is not None
    assert "showed only after 1.00 s" in watched.problem


def test_hold_zero_is_met_by_the_first_matching_answer_whatever_its_time() -> None:
    watched = expectation(0.0)
    update(watched, OK, 0.12345678)  # round(…, 4) goes up: 0.1235
    assert watched.done and watched.problem is None


def test_a_single_request_is_named_by_its_request_a_flow_by_its_step() -> None:
    single = expectation(0.0, within=0.5)
    failed = Observation(
        False,
        "expectation 1",
        "flow 'expectation 1': step 1/1 'GET /health/deep' failed: GET https://h/health/deep: "
        "expected status 503, got 200; captured: nothing captured",
    )
    update(single, failed, 0.6)
    assert single.problem is not None
    assert single.problem.endswith("last: GET https://h/health/deep: expected status 503, got 200")
