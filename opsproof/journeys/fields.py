"""A value inside a JSON document: a dotted path (``items.0.id``) or JSONPath (``$.items[0].id``).

Dotted paths are what smoke steps already use; a path starting with ``$`` is JSONPath
(jsonpath-ng), for filters and wildcards; its first match is the value. The config model has
parsed every JSONPath already, so a typo fails at load time, not here.
"""

import json
from functools import lru_cache
from typing import Any

from jsonpath_ng.ext.parser import parse as parse_jsonpath

from opsproof.probes.exchange import MISSING, lookup

__all__ = ["MISSING", "field", "parsed_json"]


@lru_cache(maxsize=256)
def _compiled(path: str) -> Any:
    return parse_jsonpath(path)


def field(document: object, path: str) -> object:
    """The value at ``path`` in ``document``, or :data:`MISSING`."""
    if not path.startswith("$"):
        return lookup(document, path)
    matches = _compiled(path).find(document)
    return matches[0].value if matches else MISSING


def parsed_json(body: bytes) -> object:
    """The body as JSON, or :data:`MISSING` when it is not JSON."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        return MISSING
