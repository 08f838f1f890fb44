"""Identifiers of the OSCAL documents: deterministic UUIDs, control ids as OSCAL tokens, props.

UUIDs are version 5, derived from the run (or the environment, for the system and its
components), so exporting the same run again yields the same documents and a month of runs of
one environment names the same system and components.
"""

import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache

OSCAL_VERSION = "1.1.3"
NAMESPACE = "https://opsproof.invalid/ns/oscal"
"""The ``ns`` of opsproof's own props and facets: an identifier, never fetched (``.invalid`` is
reserved by RFC 2606, so it can be nobody else's vocabulary)."""
_ROOT = uuid.UUID("5f0c1a52-9a43-5d1e-8d3b-6f70737072f0")

Json = dict[str, object]
"""An OSCAL object as it is serialized: the documents are wire format, not domain objects."""

_NOT_TOKEN = re.compile(r"[^A-Za-z0-9_.\-]+")
_ENHANCEMENT = re.compile(r"\((\w+)\)")


class Uuids:
    """``uuids("observation", check_id)``: the same parts give the same UUID for one seed."""

    def __init__(self, seed: str) -> None:
        self._namespace = uuid.uuid5(_ROOT, seed)
        self._made: dict[tuple[str, ...], str] = {}  # findings name the observations again

    def __call__(self, *parts: str) -> str:
        made = self._made.get(parts)
        if made is None:
            made = self._made[parts] = str(uuid.uuid5(self._namespace, "\x1f".join(parts)))
        return made


@lru_cache(maxsize=4096)
def token(text: str) -> str:
    """Any text as an OSCAL token (a letter or ``_`` first; letters, digits, ``_.-``)."""
    cleaned = _NOT_TOKEN.sub("-", text).strip("-") or "_"
    return cleaned if cleaned[0].isalpha() or cleaned[0] == "_" else f"_{cleaned}"


def control_token(control: str) -> str:
    """``NIST800-53:CP-9(1)`` → ``nist800-53_cp-9.1``: the control's id in the OSCAL catalog.

    The framework stays in the id (``soc2_cc7.2``, ``iso27001_a.8.13``) so ids of different
    frameworks never collide; enhancements in parentheses become ``.N`` as in NIST's catalog."""
    framework, _, local = control.partition(":")
    local = _ENHANCEMENT.sub(r".\1", local)
    return token(f"{framework.lower()}_{local.lower()}")


def objective_id(control: str) -> str:
    """The id of the control's objective part in the catalog, which findings target."""
    return f"{control_token(control)}_obj"


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as OSCAL's date-time-with-timezone wants it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def prop(name: str, value: object, *, cls: str = "", group: str = "", remarks: str = "") -> Json:
    """An opsproof prop (in opsproof's namespace); the value as text, never empty."""
    text = " ".join((value if isinstance(value, str) else _text(value)).split())
    made: Json = {"name": token(name), "ns": NAMESPACE, "value": text or "-"}
    if cls:
        made["class"] = token(cls)
    if group:
        made["group"] = token(group)
    if remarks:
        made["remarks"] = remarks
    return made


def _text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
