"""Which operations of an OpenAPI document a probe covers, and which it holds back.

An operation is probed when it matches ``include`` (if given) and not ``exclude``, and its
method is safe (GET, HEAD, OPTIONS) or listed in ``allow_methods``. A held-back operation is
still listed — in the dry run and as a *not applicable* item — so the evidence shows what the
probe did not call and why.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from opsproof.config.models import ApiContractSpec, ApiOperationsSpec


@dataclass(frozen=True)
class Credential:
    """Where a security scheme carries its credential: a header, a query parameter, a cookie."""

    location: str
    name: str


@dataclass(frozen=True)
class Operation:
    """One operation as the probe knows it, before anything is sent."""

    method: str
    """Upper case, as sent."""
    path: str
    """The path template as documented: ``/jobs/{job_id}``."""
    tags: tuple[str, ...] = ()
    secured: bool = False
    """It declares a security requirement that cannot be met without credentials."""
    credentials: tuple[Credential, ...] = field(default=(), compare=False)
    """Where its security schemes put credentials: stripped from an unauthenticated request."""

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operation_of(method: str, path: str, definition: Mapping[str, Any], document: Any) -> Operation:
    """An operation from its definition in the document (security from the operation, else the
    document's default; an empty requirement ``{}`` makes credentials optional)."""
    raw_tags = definition.get("tags")
    tags = tuple(str(tag) for tag in raw_tags) if isinstance(raw_tags, list) else ()
    requirements = definition.get("security", _get(document, "security") or [])
    if not isinstance(requirements, list):
        requirements = []
    names = [name for req in requirements if isinstance(req, dict) for name in req]
    secured = bool(requirements) and {} not in requirements
    return Operation(method.upper(), path, tags, secured, _credentials(names, document))


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, Mapping) else None


def _credentials(names: Iterable[str], document: Any) -> tuple[Credential, ...]:
    """OpenAPI 3 ``components.securitySchemes`` or Swagger 2 ``securityDefinitions``."""
    schemes = _get(_get(document, "components"), "securitySchemes") or _get(
        document, "securityDefinitions"
    )
    found: list[Credential] = []
    for name in names:
        scheme = _get(schemes, name)
        kind = _get(scheme, "type")
        if kind == "apiKey" and _get(scheme, "in") in ("header", "query", "cookie"):
            found.append(Credential(str(scheme["in"]), str(_get(scheme, "name"))))
        elif kind in ("http", "basic", "oauth2", "openIdConnect"):
            found.append(Credential("header", "Authorization"))
    return tuple(dict.fromkeys(found))


def matches(spec: ApiOperationsSpec, operation: Operation) -> bool:
    """Every key given matches (any of its values)."""
    return (
        (not spec.paths or any(fnmatchcase(operation.path, path) for path in spec.paths))
        and (not spec.methods or operation.method in spec.methods)
        and (not spec.tags or bool(set(spec.tags) & set(operation.tags)))
    )


def selected(contract: ApiContractSpec, operations: Iterable[Operation]) -> list[Operation]:
    """The operations ``include`` and ``exclude`` leave, in document order."""
    include, exclude = contract.include, contract.exclude
    return [
        operation
        for operation in operations
        if (include is None or matches(include, operation))
        and (exclude is None or not matches(exclude, operation))
    ]


def held_back(contract: ApiContractSpec, operation: Operation) -> str | None:
    """Why the probe does not call ``operation``, or None when it may."""
    if operation.method in contract.methods:
        return None
    return (
        f"not called: {operation.method} may change state and the probe is read-only; "
        f"allow_methods: [{operation.method}] opts in (refused in a production environment)"
    )
