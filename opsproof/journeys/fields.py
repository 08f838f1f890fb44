"""A value inside a JSON document: a dotted path (``items.0.id``) or JSONPath (``$.items[0].id``).

Dotted paths are what smoke steps already use; a path starting with ``$`` is JSONPath
(jsonpath-ng), for filters and wildcards. JSONPath's first match is the value.
"""

import json
from functools import lru_cache

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext.parser import parse as parse_jsonpath

from opsproof.probes._body import MISSING, lookup

__all__ = ["MISSING", "BadPath", "field", "parsed_json"]


class BadPath(ValueError):
    """A JSONPath that does not parse."""


@lru_cache(maxsize=256)
def _compiled(path: str) -> object:
    try:
        return parse_jsonpath(path)
    except (JsonPathParserError, Exception) as exc:  # the lexer raises bare Exceptions
        raise BadPath(f"{path}: not a JSONPath ({exc})") from None


def field(document: object, path: str) -> object:
    """The value at ``path`` in ``document``, or :data:`MISSING`."""
    if not path.startswith("$"):
        return lookup(document, path)
    matches = _compiled(path).find(document)  # type: ignore[attr-defined]
    return matches[0].value if matches else MISSING


def parsed_json(body: bytes) -> object:
    """The body as JSON, or :data:`MISSING` when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        return MISSING
