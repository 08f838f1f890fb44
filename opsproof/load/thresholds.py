"""k6's threshold grammar, reproduced quirk for quirk.

Hand-written because the grammar is k6's own (``metrics/thresholds_parser.go``): an expression
is ``method operator value``; the operator is found by trying ``<= < >= > === == !=`` in that
order and splitting at the first occurrence of the first one present, the method is matched
verbatim (``p(`` float ``)`` with nothing trimmed inside), and the value is a Go float.
Submetric selectors follow k6's ``ParseMetricName``: ``name{tag:value,...}``.
"""

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from opsproof.errors import ThresholdSyntaxError
from opsproof.load.metrics import BUILTIN, METHODS, NOT_MEASURED

OPERATORS = ("<=", "<", ">=", ">", "===", "==", "!=")
"""k6's scan order: a longer token sharing symbols with a shorter one comes first."""

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
    "===": operator.eq,  # k6 sinks are floats: strict and loose equality are the same
    "==": operator.eq,
    "!=": operator.ne,
}
_KEYWORDS = ("value", "count", "rate", "avg", "min", "med", "max")
# Go's unicode.IsSpace, which strings.TrimSpace uses (Python's isspace also strips \x1c-\x1f)
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_GO_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_GO_HEX = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+")
_GO_SPECIAL = re.compile(r"[+-]?(inf|infinity)|nan", re.IGNORECASE)


@dataclass(frozen=True)
class Expression:
    """A parsed ``method operator value``; ``percentile`` is set for ``p(N)``."""

    method: str
    operator: str
    value: float
    percentile: float | None = None

    @property
    def aggregation(self) -> str:
        """The sink key k6 looks the value up by: ``p(95)``, ``avg``, ``rate``."""
        return f"p({_go_g(self.percentile)})" if self.percentile is not None else self.method

    def passes(self, observed: float) -> bool:
        return _COMPARE[self.operator](observed, self.value)

    def __str__(self) -> str:
        return format_expression(self)


@dataclass(frozen=True)
class Selector:
    """A metric, optionally narrowed to samples carrying all of ``tags`` (a k6 submetric)."""

    metric: str
    tags: tuple[tuple[str, str], ...] = ()

    def matches(self, sample_tags: dict[str, str]) -> bool:
        return all(sample_tags.get(key) == value for key, value in self.tags)

    def __str__(self) -> str:
        if not self.tags:
            return self.metric
        return self.metric + "{" + ",".join(f"{k}:{v}" for k, v in self.tags) + "}"


def parse_expression(text: str) -> Expression:
    """Parse a k6 threshold expression such as ``p(95)<500``; raises ThresholdSyntaxError."""
    for token in OPERATORS:
        left, found, right = text.partition(token)
        if found:
            break
    else:
        raise ThresholdSyntaxError(
            f"{text!r} is not a threshold: no operator; write e.g. 'p(95)<500' "
            f"(operators: {' '.join(OPERATORS)})"
        )
    method, percentile = _method(left.strip(_GO_SPACE), text)
    return Expression(method, token, _go_float(right.strip(_GO_SPACE), text), percentile)


def format_expression(expression: Expression) -> str:
    """Canonical text that parses back to the same expression."""
    return f"{expression.aggregation}{expression.operator}{_go_g(expression.value)}"


def parse_selector(text: str) -> Selector:
    """Parse ``metric`` or ``metric{tag:value,...}`` as k6 does; raises ThresholdSyntaxError."""
    opening, closing = text.find("{"), text.rfind("}")
    if opening == -1 and closing == -1:
        return Selector(text)
    if opening == -1 or closing == -1:
        raise ThresholdSyntaxError(f"{text!r} has an unmatched curly brace")
    if closing < opening:
        raise ThresholdSyntaxError(f"{text!r}: the closing brace comes before the opening one")
    if closing != len(text) - 1:
        raise ThresholdSyntaxError(f"{text!r}: nothing may follow the closing brace")
    tags: dict[str, str] = {}
    for pair in text[opening + 1 : closing].split(","):
        key, colon, value = pair.partition(":")
        if not colon or not value:
            raise ThresholdSyntaxError(
                f"{text!r}: tag expression {pair!r} is malformed; write tag:value"
            )
        # k6's AddSubmetric trims spaces, then quotes, from both key and value
        tags[key.strip(_GO_SPACE).strip("\"'")] = value.strip(_GO_SPACE).strip("\"'")
    return Selector(text[:opening], tuple(sorted(tags.items())))


def check_selector(selector: Selector) -> None:
    """Raise ThresholdSyntaxError for an unknown metric or a tag its samples never carry."""
    spec = BUILTIN.get(selector.metric)
    if spec is None:
        if selector.metric in NOT_MEASURED:
            raise ThresholdSyntaxError(
                f"{selector.metric} is a k6 metric opsproof cannot measure: "
                f"{NOT_MEASURED[selector.metric]}"
            )
        from opsproof.config.problems import did_you_mean  # error path only: keeps Locust lean

        hint = did_you_mean(selector.metric, list(BUILTIN))
        raise ThresholdSyntaxError(
            f"unknown metric {selector.metric!r}{hint} (metrics: {', '.join(BUILTIN)})"
        )
    for key, _ in selector.tags:
        if key not in spec.tags:
            allowed = ", ".join(spec.tags) or "none"
            raise ThresholdSyntaxError(
                f"{spec.name} samples carry no tag {key!r} in opsproof (tags: {allowed})"
            )


def check_applies(selector: Selector, expression: Expression) -> None:
    """Raise ThresholdSyntaxError if the (known) metric does not support the method."""
    spec = BUILTIN[selector.metric]
    if expression.method not in METHODS[spec.type]:
        methods = ", ".join("p(N)" if m == "p" else m for m in METHODS[spec.type])
        raise ThresholdSyntaxError(
            f"{expression.method if expression.percentile is None else 'p(N)'} does not apply to"
            f" {spec.name}, a {spec.type}; use {methods}"
        )
    if expression.percentile is not None and not 0 <= expression.percentile <= 100:
        raise ThresholdSyntaxError(f"p({_go_g(expression.percentile)}): N must be 0 to 100")


def _method(text: str, source: str) -> tuple[str, float | None]:
    if text in _KEYWORDS:
        return text, None
    if text.startswith("p(") and text.endswith(")"):
        inner = text[2:-1]
        try:
            return "p", _go_float(inner, source)
        except ThresholdSyntaxError:
            raise ThresholdSyntaxError(
                f"{source!r}: malformed percentile {text!r}; write p(95) with no spaces inside"
            ) from None
    raise ThresholdSyntaxError(
        f"{source!r}: unknown aggregation method {text!r} "
        "(methods: count, rate, value, avg, min, max, med, p(N))"
    )


def _go_float(text: str, source: str) -> float:
    """A float as Go's ``strconv.ParseFloat`` accepts it (decimal, hex, inf, nan; no ``_``)."""
    if _GO_DECIMAL.fullmatch(text) or _GO_SPECIAL.fullmatch(text):
        return float(text)
    if _GO_HEX.fullmatch(text):
        sign = -1.0 if text.startswith("-") else 1.0
        return sign * float.fromhex(text.lstrip("+-"))
    raise ThresholdSyntaxError(f"{source!r}: {text!r} is not a number")


def _go_g(value: float | None) -> str:
    """Shortest text that reads back as the same float (``95``, ``99.9``, ``1e+21``, ``inf``)."""
    if value is None or math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)
