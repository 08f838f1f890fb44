"""JSON from the Prometheus and Alertmanager HTTP APIs, within one deadline and a body cap.

Reads go through the probes' bounded client (:mod:`opsproof.probes._fetch`): a server that
trickles, floods or bombs fails the call with a worded :class:`ApiError`, never a hang.
"""

import json

from opsproof.config.values import DEFAULT_MAX_BODY
from opsproof.errors import ApiError, FetchError
from opsproof.probes._client import BoundedClient, ReadLimits
from opsproof.probes._fetch import fetch
from opsproof.support.redact import redact_url
from opsproof.support.text import one_line


def get_json(base: str, path: str, timeout: float, max_body: int = DEFAULT_MAX_BODY) -> object:
    """The decoded answer of ``GET base+path``; Prometheus's ``{"status": "success", "data"}``
    envelope is unwrapped. Raises ApiError naming the URL (without its password)."""
    shown = redact_url(base).rstrip("/") + path
    try:
        with BoundedClient(limits=ReadLimits(max_body=max_body)) as client:
            answer = fetch(client, "GET", base.rstrip("/") + path, timeout)
    except FetchError as exc:
        raise ApiError(f"GET {shown}: {exc}") from exc
    if answer.status != 200:
        raise ApiError(f"GET {shown}: HTTP {answer.status} {answer.excerpt()}")
    try:
        document = json.loads(answer.body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than the stack
        raise ApiError(f"GET {shown}: not JSON: {answer.excerpt()}") from exc
    if isinstance(document, dict) and "status" in document and "data" in document:
        if document["status"] != "success":
            error = one_line(str(document.get("error", document["status"])))
            raise ApiError(f"GET {shown}: {error}")
        return document["data"]
    return document


def dicts(value: object) -> list[dict[str, object]]:
    """The objects of a JSON list (anything else: none)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def labels_of(item: dict[str, object], key: str = "labels") -> dict[str, str]:
    """An object's label set as strings."""
    labels = item.get(key)
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
