"""Text from a peer made safe for evidence: printable, on one line, and short.

A response body, a header or a certificate field can hold NUL, escape sequences, bidi overrides
or megabytes; quoted raw they end up in summary.md, report.html and junit.xml. Every quote goes
through :func:`one_line`, and :class:`~opsproof.probes.result.Observation` passes its own text
through :func:`printable`, so nothing a peer sends reaches a report unescaped.
"""

import re

_WHITESPACE = re.compile(r"\s+")
_UNITS = (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10))


def _escape(char: str) -> str:
    """``\\x00``, ``\\u202e``: the escape Python's own repr would write."""
    return char.encode("unicode_escape").decode("ascii")


def printable(text: str, keep: str = "\n\t") -> str:
    """``text`` with every non-printable character (controls, format characters such as bidi
    overrides, unassigned code points) escaped, except those in ``keep``."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c in keep else _escape(c) for c in text)


def one_line(text: str, limit: int = 200) -> str:
    """A quote for a reason: whitespace collapsed, non-printables escaped, cut to ``limit``
    characters (``…`` marks the cut)."""
    # Only the head can be shown; looking at more would cost time on a body of megabytes.
    head = text[: limit * 8]
    return _shorten(head, limit, cut=len(head) < len(text))


def _shorten(text: str, limit: int, *, cut: bool) -> str:
    flat = printable(_WHITESPACE.sub(" ", text).strip(), keep="")
    if len(flat) <= limit and not cut:
        return flat
    return flat[: limit - 1] + "…"


def excerpt(body: bytes, media_type: str = "", limit: int = 200) -> str:
    """A body quoted for a reason: its text when it is UTF-8 (escaped and cut as by
    :func:`one_line`), else its size and type."""
    head = body[: limit * 8]
    cut = len(head) < len(body)
    try:
        text = head.decode()
    except UnicodeDecodeError as exc:
        if not cut or exc.start < len(head) - 3:
            return f"<{quantity(len(body))} of {media_type or 'unknown type'}>"
        text = head[: exc.start].decode()  # the cut split a multi-byte character
    if not body:
        return "<empty body>"
    if not text.strip() and not cut:
        return f"<{quantity(len(body))} of whitespace>"
    return _shorten(text, limit, cut=cut)


def quantity(size: int) -> str:
    """A byte count for people: ``4 MiB``, ``1.5 GiB``, ``512 bytes``."""
    for unit, scale in _UNITS:
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} byte" + ("" if size == 1 else "s")


def count(number: int) -> str:
    """``10,000``: a count with thousands separators."""
    return f"{number:,}"
