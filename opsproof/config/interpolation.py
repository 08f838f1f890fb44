"""The ``${...}`` grammar of string values, kept apart from where the values come from.

``${NAME}`` and ``${NAME:-default}`` read a variable (the default also replaces an empty one);
``${stack.KEY}`` reads the running reference stack; ``$$`` is a literal ``$``. A default is
literal text up to the first ``}``. ``$NAME`` without braces is an error rather than a silent
literal, because shell habits make it a likely mistake.
"""

import re
from dataclasses import dataclass

_TOKEN = re.compile(r"\$(?:\$|\{(?P<body>[^}]*)\}|(?P<open>\{)|(?P<bare>[A-Za-z_]\w*))")
_BODY = re.compile(r"(?P<name>stack\.[\w.-]+|[A-Za-z_]\w*)(?::-(?P<default>.*))?", re.DOTALL)


@dataclass(frozen=True)
class Reference:
    """One ``${...}`` in a value."""

    name: str
    default: str | None

    @property
    def stack_key(self) -> str | None:
        """``api.url`` for ``${stack.api.url}``; None for an environment variable."""
        return self.name.removeprefix("stack.") if self.name.startswith("stack.") else None

    def __str__(self) -> str:
        return f"${{{self.name}}}"


Part = str | Reference


def parse_template(text: str) -> list[Part]:
    """Split a value into literal text and references; raises ValueError saying how to fix it."""
    parts: list[Part] = []
    end = 0
    for match in _TOKEN.finditer(text):
        parts.append(text[end : match.start()])
        end = match.end()
        if match.group("open"):
            raise ValueError("'${' is never closed; add '}' or write '$$' for a literal '$'")
        if bare := match.group("bare"):
            raise ValueError(f"write ${{{bare}}} to use a variable, or '$$' for a literal '$'")
        body = match.group("body")
        if body is None:
            parts.append("$")
        elif body_match := _BODY.fullmatch(body):
            default = body_match.group("default")
            if default is not None and "${" in default:
                raise ValueError(f"${{{body}}}: a default cannot contain another reference")
            parts.append(Reference(body_match.group("name"), default))
        else:
            raise ValueError(
                f"${{{body}}} is not a reference; write ${{NAME}}, ${{NAME:-default}} or "
                "${stack.KEY} (names use letters, digits and _), or '$$' for a literal '$'"
            )
    parts.append(text[end:])
    return [part for part in parts if part != ""]


def escape(text: str) -> str:
    """Text that interpolates back to exactly ``text``."""
    return text.replace("$", "$$")
