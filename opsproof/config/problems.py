"""One problem in a config file, and the single error that reports all of them.

Every line reads ``file:line:column: dotted.key: what is wrong; the fix`` so editors and
terminals can jump to it. Values and keys are quoted as excerpts, and one error lists at most
``MAX_PROBLEMS`` problems: a hostile or generated file must not turn its error into megabytes.
"""

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from opsproof.errors import ConfigError

KeyPath = tuple[str | int, ...]
"""Where a value sits in the file: mapping keys and list indices from the top."""

EXCERPT = 60
"""Characters of a value or key quoted in a message; a longer one is cut and its length said."""
MAX_PROBLEMS = 50
"""Problems listed in one error; the rest are counted on its last line."""
MAX_LOCATED = 1000
"""Validation errors of one model located one by one; the rest are only counted (locating
each takes tens of µs, and a 2 MiB list of bad ports holds 700,000)."""
MAX_CHOICES = 20
"""Names listed as choices (environments, services); the rest are counted."""


@dataclass(frozen=True, order=True)
class Position:
    """A 1-based line and column in the config file."""

    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    position: Position
    path: KeyPath
    message: str
    weight: int = 1
    """How many problems this one stands for: more than 1 for the count of those not located."""

    def render(self, source: str) -> str:
        where = f"{source}:{self.position.line}:{self.position.column}:"
        key = f" {dotted(self.path)}:" if self.path else ""
        return printable(f"{where}{key} {self.message}")


def printable(text: str) -> str:
    """One line: a user's key or value may hold line breaks or control characters."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def excerpt(value: object, limit: int = EXCERPT) -> str:
    """``repr(value)``, cut to about ``limit`` characters with the full length said."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        # str() of a huge int is quadratic (and refused past 4300 digits): say its size instead
        return f"a whole number of about {int(value.bit_length() * 0.30103):,} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def listing(names: Iterable[object], limit: int = MAX_CHOICES) -> str:
    """``a, b, c`` for choices in a message; past ``limit`` names, the rest counted."""
    shown = [str(name) if len(str(name)) <= EXCERPT else excerpt(name) for name in names]
    if len(shown) <= limit:
        return ", ".join(shown)
    return f"{', '.join(shown[:limit])}, … ({len(shown) - limit:,} more)"


def dotted(path: KeyPath) -> str:
    """``environments.prod.smoke[0].request`` for a key path; odd keys in brackets, quoted."""
    text = ""
    for part in path:
        if isinstance(part, str) and len(part) > EXCERPT:
            text += f"[{excerpt(part)}]"
        elif isinstance(part, int) or not part or any(c in part for c in " .[]'\""):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    if len(word) > 2 * EXCERPT:
        return ""  # nothing that long is a typo of a key, and comparing it is quadratic
    folded = {choice.lower(): choice for choice in choices}
    key = word.lower()
    # cutoff below difflib's 0.6 default so that a shortened key such as 'maxmem' still matches
    candidates = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.5)
    candidates = candidates or [c for c in folded if len(key) > 2 and key in c]
    return f"; did you mean {folded[candidates[0]]!r}?" if candidates else ""


def config_error(
    source: str, problems: Iterable[Problem], secrets: Iterable[str] = ()
) -> ConfigError:
    """One error listing every problem once, in file order, with secret values masked; past
    ``MAX_PROBLEMS`` the last line counts the rest."""
    # sorted and made unique before rendering: a file may hold a hundred thousand problems
    unique = {(p.position, dotted(p.path), p.message): p for p in problems}
    ordered = [problem for _, problem in sorted(unique.items())]
    lines = [problem.render(source) for problem in ordered[:MAX_PROBLEMS]]
    if rest := ordered[MAX_PROBLEMS:]:
        position = rest[0].position
        lines.append(
            f"{source}:{position.line}:{position.column}: and {sum(p.weight for p in rest):,} "
            "more problems; fix the ones above first"
        )
    text = "\n".join(lines)
    # a value of a few characters would mask ordinary words, and reveals little in an error
    for secret in sorted((s for s in set(secrets) if len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return ConfigError(text)
