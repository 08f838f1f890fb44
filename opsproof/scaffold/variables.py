"""Compose's ``${VAR}`` interpolation, rewritten in opsproof's grammar.

Compose reads ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``,
``${VAR?error}``, ``${VAR:+alt}``, ``${VAR+alt}`` and ``$$``. opsproof reads ``${VAR}``,
``${VAR:-default}`` and ``$$``: a required variable (``:?``) is simply ``${VAR}`` (opsproof
refuses an unset one too), ``-`` becomes ``:-`` (an empty value then also takes the default), and
what has no equivalent (``:+``, a default holding another reference) becomes ``${VAR}`` with a
note saying so.
"""

import re
from dataclasses import dataclass

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_REFERENCE = re.compile(
    rf"\$(?:(?P<dollar>\$)|(?P<bare>{_NAME})|\{{(?P<name>{_NAME})(?P<op>:?[-?+])?"
    r"(?P<arg>(?:[^{}$]|\$\$|\$\{[^{}]*\})*)\})"
)


@dataclass(frozen=True)
class Converted:
    """A compose value in opsproof's grammar, and what could not be carried over."""

    text: str
    notes: tuple[str, ...] = ()


def convert(value: str) -> Converted:
    """``value`` with every compose reference rewritten as an opsproof reference."""
    notes: list[str] = []

    def rewrite(match: re.Match[str]) -> str:
        if match.group("dollar"):
            return "$$"
        name = match.group("bare") or match.group("name")
        op, arg = match.group("op"), match.group("arg") or ""
        if op in ("-", ":-"):
            if "$" in arg or "}" in arg:
                notes.append(f"${{{name}{op}{arg}}}: opsproof defaults are literal; set {name}")
                return f"${{{name}}}"
            return f"${{{name}:-{arg}}}"
        if op in ("+", ":+"):
            notes.append(f"${{{name}{op}{arg}}} has no opsproof form; written as ${{{name}}}")
        return f"${{{name}}}"

    text = _REFERENCE.sub(rewrite, value)
    return Converted(text, tuple(notes))


def literal(value: str) -> str | None:
    """The value when it holds no reference at all; None when a variable decides it."""
    return None if "$" in value.replace("$$", "") else value.replace("$$", "$")


def split_outside_references(value: str, separator: str) -> list[str]:
    """``value`` split at ``separator`` except inside ``${...}`` (``${PORT:-80}:80``)."""
    parts, depth, current = [], 0, ""
    index = 0
    while index < len(value):
        char = value[index]
        if value.startswith("${", index):
            depth += 1
            current += "${"
            index += 2
            continue
        if char == "}" and depth:
            depth -= 1
        if char == separator and not depth:
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    return [*parts, current]
