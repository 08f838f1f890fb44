"""Judging a response body: dotted JSON fields and binary signatures."""

import json
from collections.abc import Mapping

from pydantic import JsonValue

from opsproof.config.flows import Signature
from opsproof.support.text import one_line

# Six fixed prefixes; a file-type detection dependency would be heavier than the table.
_MAGIC: dict[Signature, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "pdf": (b"%PDF-",),
    "gzip": (b"\x1f\x8b",),
    "zip": (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"),
}

MISSING = object()


def has_signature(body: bytes, signature: Signature) -> bool:
    """Whether the body starts with the magic bytes of the format."""
    return body.startswith(_MAGIC[signature])


def sniff(body: bytes) -> str:
    """The format the body's magic bytes name, or its first bytes when none matches."""
    for name, prefixes in _MAGIC.items():
        if body.startswith(prefixes):
            return name
    return f"bytes {body[:8]!r}" if body else "an empty body"


def lookup(document: object, path: str) -> object:
    """Follow ``data.items.0.id``: keys into objects, integer indexes into arrays."""
    current = document
    for key in path.split("."):
        if isinstance(current, Mapping) and key in current:
            current = current[key]
        elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
            current = current[int(key)]
        else:
            return MISSING
    return current


def same(expected: object, actual: object) -> bool:
    """JSON equality: ``true`` is not ``1`` (Python's ``True == 1`` would say it is)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(
            same(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(same, expected, actual))
    return expected == actual


def quoted(value: object) -> str:
    try:
        return one_line(json.dumps(value), 120)
    except (ValueError, RecursionError):
        return "a value nested too deep to quote"


def json_mismatches(document: object, expected: Mapping[str, JsonValue]) -> list[str]:
    """One ``expected X, got Y`` line per dotted path whose value differs or is missing."""
    failures = []
    for path, want in expected.items():
        got = lookup(document, path)
        seen = "nothing (no such field)" if got is MISSING else quoted(got)
        if got is MISSING or not same(want, got):
            failures.append(f"expected {path} = {json.dumps(want)}, got {seen}")
    return failures
