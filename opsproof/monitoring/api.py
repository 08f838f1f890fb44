"""JSON from the Prometheus and Alertmanager HTTP APIs, within a deadline."""

import json

import httpx

from opsproof.evidence.redact import redact_url
from opsproof.probes._common import describe_error, one_line


class ApiError(Exception):
    """The server did not answer, or answered something else than a success; worded."""


def get_json(base: str, path: str, timeout: float) -> object:
    """The decoded answer of ``GET base+path``; Prometheus's ``{"status": "success", "data"}``
    envelope is unwrapped. Raises ApiError naming the URL (without its password)."""
    shown = redact_url(base).rstrip("/") + path
    try:
        with httpx.Client(trust_env=False, timeout=timeout) as client:
            answer = client.get(base.rstrip("/") + path)
    except httpx.HTTPError as exc:
        raise ApiError(f"GET {shown}: {describe_error(exc, timeout)}") from exc
    if answer.status_code != 200:
        raise ApiError(f"GET {shown}: HTTP {answer.status_code} {one_line(answer.text)}")
    try:
        document = answer.json()
    except json.JSONDecodeError as exc:
        raise ApiError(f"GET {shown}: not JSON: {one_line(answer.text)}") from exc
    if isinstance(document, dict) and "status" in document and "data" in document:
        if document["status"] != "success":
            raise ApiError(f"GET {shown}: {document.get('error', document['status'])}")
        return document["data"]
    return document


def dicts(value: object) -> list[dict[str, object]]:
    """The objects of a JSON list (anything else: none)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def labels_of(item: dict[str, object], key: str = "labels") -> dict[str, str]:
    """An object's label set as strings."""
    labels = item.get(key)
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}
