"""One problem in a config file, and the single error that reports all of them.

Every line reads ``file:line:column: dotted.key: what is wrong; the fix`` so editors and
terminals can jump to it.
"""

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from opsproof.errors import ConfigError

KeyPath = tuple[str | int, ...]
"""Where a value sits in the file: mapping keys and list indices from the top."""


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

    def render(self, source: str) -> str:
        where = f"{source}:{self.position.line}:{self.position.column}:"
        key = f" {dotted(self.path)}:" if self.path else ""
        text = f"{where}{key} {self.message}"
        # one problem, one line: a user's key or value may hold line breaks or control characters
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def dotted(path: KeyPath) -> str:
    """``environments.prod.smoke[0].request`` for a key path; odd keys in brackets, quoted."""
    text = ""
    for part in path:
        if isinstance(part, int) or not part or any(c in part for c in " .[]'\""):
            text += f"[{part!r}]"
        else:
            text += f".{part}" if text else part
    return text


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choice, or ``""`` when none is close."""
    folded = {choice.lower(): choice for choice in choices}
    key = word.lower()
    # cutoff below difflib's 0.6 default so that a shortened key such as 'maxmem' still matches
    candidates = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.5)
    candidates = candidates or [c for c in folded if len(key) > 2 and key in c]
    return f"; did you mean {folded[candidates[0]]!r}?" if candidates else ""


def config_error(
    source: str, problems: Iterable[Problem], secrets: Iterable[str] = ()
) -> ConfigError:
    """One error listing every problem once, in file order, with secret values masked."""
    lines = sorted({(p.position, p.render(source)) for p in problems})
    text = "\n".join(line for _, line in lines)
    # a value of a few characters would mask ordinary words, and reveals little in an error
    for secret in sorted((s for s in set(secrets) if len(s) > 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return ConfigError(text)
