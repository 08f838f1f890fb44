"""Turn pydantic's validation errors into problems at the line where the user wrote the value.

pydantic locates an error by field names, aliases and union tags (``services.redis.redis.url``
for a tagged union member); walking the model's declared types beside the location tells
which parts are keys in the file, which model owns an unknown key, which field tells a union's
members apart (``kind`` of a service, ``action`` of a fault) and which values a ``Literal``
allows. A value is quoted as a short excerpt with secrets masked.
"""

import difflib
import functools
import types
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal, TypeGuard, Union, get_args, get_origin

from pydantic import BaseModel, JsonValue, ValidationError
from pydantic_core import ErrorDetails

from opsproof.config.problems import (
    MAX_LOCATED,
    KeyPath,
    Problem,
    did_you_mean,
    dotted,
    excerpt,
    listing,
)
from opsproof.config.source import ParsedFile

_EXPECTED = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "int_parsing_size": "expected a whole number of a sensible size",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text (quote the value)",
    "dict_type": "expected a mapping of key: value lines",
    "model_type": "expected a mapping of key: value lines",
    "model_attributes_type": "expected a mapping of key: value lines",
    "list_type": "expected a list of '- item' lines",
    "invalid-json-value": "expected a JSON value (text, number, true/false, null, list, mapping)",
}


@dataclass(frozen=True)
class _Site:
    """What a pydantic location means in the file."""

    path: KeyPath
    owner: type[BaseModel] | None
    """The model whose field (or unknown key) the location ends at."""
    annotation: object
    """The declared type at the location, when known."""
    data: object
    """The value at the location, when it was written."""
    key: bool = False
    """The error is about a mapping key itself (a header name), not its value."""


def validation_problems(
    exc: ValidationError,
    model: type[BaseModel],
    data: object,
    prefix: KeyPath,
    parsed: ParsedFile,
    *,
    secrets: Collection[str] = (),
    unless: Callable[[object], bool] | None = None,
) -> list[Problem]:
    """One problem per error of validating ``data`` (at ``prefix`` in ``parsed``) as ``model``.

    ``secrets`` are masked wherever a value is quoted; an error whose value satisfies
    ``unless`` (one that interpolation could still change) is left out. Past ``MAX_LOCATED``
    errors, the rest are counted in one problem after the last."""
    errors = exc.errors()
    sites = [(error, _site(model, error["loc"], data)) for error in errors[:MAX_LOCATED]]
    problems = [
        _problem(error, site, prefix, parsed, secrets)
        for error, site in sites
        if unless is None or not unless(_judged(error, site))
    ]
    if len(errors) > MAX_LOCATED and problems:
        last = max(problem.position for problem in problems)
        message = f"{len(errors) - MAX_LOCATED:,} more problems, not located"
        problems.append(Problem(last, prefix, message, weight=len(errors) - MAX_LOCATED))
    return problems


def _judged(error: ErrorDetails, site: _Site) -> object:
    """The part of the file an error judges: nothing for a key that is unknown or missing (a
    value beside it changes nothing), the tag of a union's unknown tag, else the value."""
    kind = error["type"]
    if kind in ("extra_forbidden", "missing", "union_tag_not_found"):
        return None
    if kind == "union_tag_invalid" and isinstance(site.data, dict):
        return site.data.get(_tag_field(site.annotation) or "kind")
    return site.data


def _problem(
    error: ErrorDetails, site: _Site, prefix: KeyPath, parsed: ParsedFile, secrets: Collection[str]
) -> Problem:
    path = (*prefix, *site.path)
    kind = error["type"]
    if site.key:
        message = error["msg"].removeprefix("Value error, ")
        return Problem(parsed.locate(path, key=True), path, message)
    if kind == "extra_forbidden":
        allowed = _field_names(site.owner)
        hint = did_you_mean(str(path[-1]), allowed + _field_names(site.owner, aliases=False))
        message = f"unknown key{hint} (allowed: {', '.join(allowed)})"
        return Problem(parsed.locate(path, key=True), path, message)
    if kind == "missing":
        return Problem(parsed.locate(path), path, _missing(site, path))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _tag_problem(site, path, parsed, secrets)
    return Problem(parsed.locate(path), path, _wrong_value(error, site, secrets))


def _tag_problem(
    site: _Site, path: KeyPath, parsed: ParsedFile, secrets: Collection[str]
) -> Problem:
    """A service's ``kind`` or a fault's ``action`` that is unknown, missing, or written under a
    misspelt key."""
    field = _tag_field(site.annotation) or "kind"
    tags = _tags(site.annotation)
    written = site.data if isinstance(site.data, dict) else {}
    if field in written:
        tag = written[field]
        hint = did_you_mean(tag, tags) if isinstance(tag, str) else ""
        message = f"unknown {field} {_quoted(tag, secrets)}{hint} ({field}s: {listing(tags)})"
        return Problem(parsed.locate((*path, field)), (*path, field), message)
    keys = [key for key in written if isinstance(key, str) and len(key) < 2 * len(field) + 8]
    # a key spelt like the tag field, or one holding a tag under another name (kind: kill)
    misspelt = difflib.get_close_matches(field, keys, n=1, cutoff=0.5)
    misspelt = misspelt or [k for k in keys if isinstance(written[k], str) and written[k] in tags]
    if misspelt:
        message = f"unknown key; did you mean {field!r}? (one of: {listing(tags)})"
        return Problem(parsed.locate((*path, misspelt[0]), key=True), (*path, misspelt[0]), message)
    message = f"missing required key; add '{field}: ' with one of: {listing(tags)}"
    return Problem(parsed.locate((*path, field)), (*path, field), message)


def _missing(site: _Site, path: KeyPath) -> str:
    name = str(path[-1])
    field = site.owner.model_fields.get(name) if site.owner else None
    about = f" ({field.description})" if field and field.description else ""
    if len(path) == 1:
        parent = "at the top of the file"
    else:
        parent = f"under '{dotted(path[-3:-1] if isinstance(path[-2], int) else path[-2:-1])}'"
    return f"missing required key; add '{name}: ...' {parent}{about}"


def _wrong_value(error: ErrorDetails, site: _Site, secrets: Collection[str]) -> str:
    kind, value = error["type"], error["input"]
    got = f"got {_describe(value, secrets)}"
    if kind == "literal_error":
        choices = [str(choice) for choice in _literals(site.annotation)]
        expected = choices[0] if len(choices) == 1 else f"one of: {', '.join(choices)}"
        hint = did_you_mean(value, choices) if isinstance(value, str) else ""
        return f"expected {expected}; {got}{hint}"
    if kind in _EXPECTED or error["msg"].startswith("Input should be"):
        expected = _EXPECTED.get(kind) or error["msg"].replace("Input should be", "expected")
        return f"{expected}; {got}"
    # a validator's own words, which quote the value where it helps
    message = error["msg"].removeprefix("Value error, ")
    quoted = isinstance(value, dict | list) or excerpt(value) in message
    # a value that is all secret (a header's) says nothing once masked
    return message if quoted or got == "got '***'" else f"{message}; {got}"


def _quoted(value: object, secrets: Collection[str]) -> str:
    """A short excerpt of ``value``, secrets masked before it is cut (a cut secret would no
    longer be found and masked)."""
    if isinstance(value, str):
        for secret in sorted((s for s in secrets if len(s) > 3 and s in value), key=len)[::-1]:
            value = value.replace(secret, "***")
    return excerpt(value)


def _describe(value: object, secrets: Collection[str] = ()) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML reads yes/no/on/off as true/false)"
    if isinstance(value, date):
        return f"{value.isoformat()} (YAML reads this as a date; quote it for text)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _quoted(value, secrets)


def _site(model: type[BaseModel], loc: tuple[int | str, ...], data: object) -> _Site:
    path: list[str | int] = []
    owner: type[BaseModel] | None = None
    current: object = model
    after_tag = False
    for element in loc:
        if element == "[key]":  # pydantic's marker: the key before it failed, not its value
            return _Site(tuple(path), owner, current, data, key=True)
        current = _strip(current)
        if element in _tags(current):
            current = _tagged(current)[str(element)]  # a union tag is not a key in the file
            continue
        if current is JsonValue and not after_tag and element == _container(data):
            after_tag = True  # JsonValue names the container type before each key or index
            continue
        after_tag = False
        path.append(element)
        data = _child(data, element)
        if _is_model(current):
            owner = current
            current = _field_type(current, element)
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        elif current is not JsonValue:
            current = None
    return _Site(tuple(path), owner, current, data)


def _container(data: object) -> str | None:
    return "dict" if isinstance(data, dict) else "list" if isinstance(data, list) else None


def _child(data: object, element: str | int) -> object:
    if isinstance(data, dict):
        return data.get(element)
    if isinstance(data, list) and isinstance(element, int) and 0 <= element < len(data):
        return data[element]
    return None


def _strip(annotation: object) -> object:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif _is_union(annotation) and len(members := _non_null(annotation)) == 1:
            annotation = members[0]
        else:
            return annotation


def _is_model(annotation: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_union(annotation: object) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _non_null(annotation: object) -> list[object]:
    return [member for member in get_args(annotation) if member is not type(None)]


def _tag_field(annotation: object) -> str | None:
    """The field that tells a union's models apart: a ``Literal`` field every member has."""
    annotation = _strip(annotation)
    if not _is_union(annotation):
        return None
    members = _non_null(annotation)
    models = [member for member in members if _is_model(member)]
    if not models or len(models) != len(members):
        return None
    names = [name for name, field in models[0].model_fields.items() if _literals(field.annotation)]
    return next(
        (
            name
            for name in names
            if all(
                name in m.model_fields and _literals(m.model_fields[name].annotation)
                for m in models
            )
        ),
        None,
    )


def _tagged(annotation: object) -> dict[str, type[BaseModel]]:
    """Members of a tagged union of models (services by kind, faults by action), by tag."""
    try:
        return _tagged_once(annotation)
    except TypeError:  # an unhashable annotation: work it out again
        return _tagged_once.__wrapped__(annotation)


# asked at every step of every error's location: 10,000 bad ports took seconds unmemoised
@functools.cache
def _tagged_once(annotation: object) -> dict[str, type[BaseModel]]:
    field = _tag_field(annotation)
    if field is None:
        return {}
    members: dict[str, type[BaseModel]] = {}
    for member in _non_null(_strip(annotation)):
        if _is_model(member) and (tag_field := member.model_fields.get(field)):
            members.update({str(tag): member for tag in _literals(tag_field.annotation)})
    return members


def _tags(annotation: object) -> list[str]:
    return list(_tagged(annotation))


def _literals(annotation: object) -> tuple[object, ...]:
    annotation = _strip(annotation)
    return get_args(annotation) if get_origin(annotation) is Literal else ()


def _field_type(model: type[BaseModel], key: str | int) -> object:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation
    return None


def _field_names(model: type[BaseModel] | None, *, aliases: bool = True) -> list[str]:
    if model is None:
        return []
    fields = model.model_fields.items()
    return [(field.alias or name) if aliases else name for name, field in fields]
