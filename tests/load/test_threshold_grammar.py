"""k6's threshold grammar: round trips, and k6's quirks reproduced (operator scan order, no
trimming inside p(), Go float syntax, submetric brace and quote rules)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsproof.errors import ThresholdSyntaxError
from opsproof.load.thresholds import (
    OPERATORS,
    Expression,
    check_applies,
    check_selector,
    format_expression,
    parse_expression,
    parse_selector,
)

GO_SPACES = st.text(alphabet=" \t\n\u00a0\u2003", max_size=3)
VALUES = st.floats(allow_nan=False) | st.integers(-(10**9), 10**9).map(float)


@st.composite
def expressions(draw: st.DrawFn) -> Expression:
    method = draw(st.sampled_from(["value", "count", "rate", "avg", "min", "med", "max", "p"]))
    percentile = draw(st.floats(0, 100)) if method == "p" else None
    return Expression(method, draw(st.sampled_from(OPERATORS)), draw(VALUES), percentile)


@given(expressions())
def test_format_then_parse_is_identity(expression: Expression) -> None:
    assert parse_expression(format_expression(expression)) == expression


@given(expressions(), GO_SPACES, GO_SPACES, GO_SPACES, GO_SPACES)
def test_space_around_method_operator_and_value_is_ignored(
    expression: Expression, a: str, b: str, c: str, d: str
) -> None:
    value = format_expression(expression).removeprefix(expression.aggregation + expression.operator)
    text = f"{a}{expression.aggregation}{b}{expression.operator}{c}{value}{d}"
    assert parse_expression(text) == expression


@pytest.mark.parametrize(
    ("text", "operator"),
    [
        ("p(95)<=500", "<="),  # '<=' is tried before '<'
        ("p(95)>=500", ">="),
        ("count===3", "==="),  # '===' before '=='
        ("count==3", "=="),
        ("rate!=0", "!="),
    ],
)
def test_operators_are_found_in_k6_scan_order(text: str, operator: str) -> None:
    assert parse_expression(text).operator == operator


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("avg>=1<2", "unknown aggregation method 'avg>=1'"),  # split at '<', tried before '>='
        ("count====1", "'=1' is not a number"),  # split at the first '==='
        ("p( 95)<1", "malformed percentile"),  # nothing is trimmed inside p()
        ("p(95 )<1", "malformed percentile"),
        ("P(95)<1", "unknown aggregation method"),  # case matters
        ("med<1_000", "'1_000' is not a number"),  # Go: no underscores in decimal floats
        ("rate<+nan", "is not a number"),  # Go: NaN takes no sign
        ("p95<1", "unknown aggregation method"),
        ("avg 500", "no operator"),
        ("avg<", "'' is not a number"),
    ],
)
def test_what_k6_rejects_is_rejected(text: str, complaint: str) -> None:
    with pytest.raises(ThresholdSyntaxError, match=complaint.replace("(", r"\(")):
        parse_expression(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("avg<0x1p-2", 0.25), ("avg<1e3", 1000.0), ("avg<.5", 0.5), ("avg<5.", 5.0)],
)
def test_go_float_forms_are_accepted(text: str, value: float) -> None:
    assert parse_expression(text).value == value


def test_infinity_and_nan_as_go_spells_them() -> None:
    assert parse_expression("max<Infinity").value == math.inf
    assert parse_expression("max>-inf").value == -math.inf
    assert math.isnan(parse_expression("max!=NaN").value)


def test_the_sink_key_prints_the_percentile_as_go_does() -> None:
    assert parse_expression("p(99.90)<1").aggregation == "p(99.9)"
    assert parse_expression("p(95.0)<1").aggregation == "p(95)"


@given(
    st.sampled_from(["http_req_duration", "http_reqs", "checks"]),
    st.dictionaries(
        st.text("abcdefgh_", min_size=1, max_size=6),
        st.text("abcdefgh/_.-0123456789", min_size=1, max_size=8),
        max_size=3,
    ),
)
def test_selector_round_trip(metric: str, tags: dict[str, str]) -> None:
    selector = parse_selector(
        metric + ("{" + ",".join(f"{k}:{v}" for k, v in tags.items()) + "}" if tags else "")
    )
    assert parse_selector(str(selector)) == selector
    assert dict(selector.tags) == tags


def test_submetric_keys_and_values_lose_spaces_and_quotes_as_in_k6() -> None:
    selector = parse_selector("http_req_duration{ \"name\" : 'GET /x' , method:GET}")
    assert selector.tags == (("method", "GET"), ("name", "GET /x"))
    assert selector.matches({"name": "GET /x", "method": "GET", "status": "200"})
    assert not selector.matches({"name": "GET /x", "method": "POST"})


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("http_reqs{name:x", "unmatched curly brace"),
        ("http_reqs}name:x{", "closing brace comes before"),
        ("http_reqs{name:x}y", "nothing may follow"),
        ("http_reqs{}", "malformed"),
        ("http_reqs{name}", "malformed"),
        ("http_reqs{name:}", "malformed"),
    ],
)
def test_malformed_submetrics_are_rejected(text: str, complaint: str) -> None:
    with pytest.raises(ThresholdSyntaxError, match=complaint):
        parse_selector(text)


@pytest.mark.parametrize(
    ("metric", "expression", "complaint"),
    [
        ("http_req_duraton", "p(95)<1", "did you mean 'http_req_duration'"),
        ("http_req_connecting", "p(95)<1", "cannot measure"),
        ("http_req_waiting", "count<1", "count does not apply to http_req_waiting, a trend"),
        ("http_req_failed", "p(95)<1", "p\\(N\\) does not apply to http_req_failed, a rate"),
        ("http_reqs", "avg<1", "avg does not apply to http_reqs, a counter; use count, rate"),
        ("vus", "count<1", "use value"),
        ("http_req_duration{colour:red}", "p(95)<1", "no tag 'colour'"),
        ("http_req_duration", "p(101)<1", "N must be 0 to 100"),
    ],
)
def test_metric_and_method_must_fit(metric: str, expression: str, complaint: str) -> None:
    with pytest.raises(ThresholdSyntaxError, match=complaint):
        selector = parse_selector(metric)
        check_selector(selector)
        check_applies(selector, parse_expression(expression))
