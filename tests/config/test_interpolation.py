"""The ``${...}`` grammar, on its own."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsproof.config.interpolation import Reference, escape, parse_template


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("plain", ["plain"]),
        ("", []),
        ("${A}", [Reference("A", None)]),
        ("x${A_1}y", ["x", Reference("A_1", None), "y"]),
        ("${A:-}", [Reference("A", "")]),
        ("${A:-a default: with colons}", [Reference("A", "a default: with colons")]),
        ("${stack.api.url}", [Reference("stack.api.url", None)]),
        ("${stack.redis-1.port:-6379}", [Reference("stack.redis-1.port", "6379")]),
        ("$$", ["$"]),
        ("$${A}", ["$", "{A}"]),
        ("cost: 5$ or $5", ["cost: 5$ or $5"]),
        ("end$", ["end$"]),
    ],
)
def test_parse_template(text: str, parts: list[object]) -> None:
    assert parse_template(text) == parts


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("${A", "'${' is never closed"),
        ("${}", "${} is not a reference"),
        ("${1A}", "${1A} is not a reference"),
        ("${A B}", "${A B} is not a reference"),
        ("$HOME/x", "write ${HOME} to use a variable"),
        ("${A:-${B}}", "a default cannot contain another reference"),
    ],
)
def test_malformed_templates_say_how_to_fix(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("$", r"\$").replace("{", r"\{")):
        parse_template(text)


def test_stack_key() -> None:
    assert Reference("stack.api.url", None).stack_key == "api.url"
    assert Reference("API_URL", None).stack_key is None
    assert str(Reference("stack.api.url", "x")) == "${stack.api.url}"


@given(st.text())
def test_escaped_text_round_trips(text: str) -> None:
    parts = parse_template(escape(text))
    assert all(isinstance(part, str) for part in parts)
    assert "".join(str(part) for part in parts) == text


@given(st.text())
def test_any_text_parses_or_says_why(text: str) -> None:
    try:
        parse_template(text)
    except ValueError as exc:
        assert "$" in text
        assert str(exc)
