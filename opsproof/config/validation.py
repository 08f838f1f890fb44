"""Turn pydantic's validation errors into problems at the line where the user wrote the value.

pydantic locates an error by field names, aliases and union tags (``services.redis.redis.url``
for a tagged union member); walking the model's declared types beside the location tells
which parts are keys in the file, which model owns an unknown key, and which values a
``Literal`` allows.
"""

import difflib
import types
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal, TypeGuard, Union, get_args, get_origin

from pydantic import BaseModel, JsonValue, ValidationError
from pydantic_core import ErrorDetails

from opsproof.config.problems import KeyPath, Problem, did_you_mean, dotted
from opsproof.config.source import ParsedFile

_EXPECTED = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
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


def validation_problems(
    exc: ValidationError, model: type[BaseModel], data: object, prefix: KeyPath, parsed: ParsedFile
) -> list[Problem]:
    """One problem per error of validating ``data`` (at ``prefix`` in ``parsed``) as ``model``."""
    return [
        _problem(error, _site(model, error["loc"], data), prefix, parsed) for error in exc.errors()
    ]


def _problem(error: ErrorDetails, site: _Site, prefix: KeyPath, parsed: ParsedFile) -> Problem:
    path = (*prefix, *site.path)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _field_names(site.owner)
        hint = did_you_mean(str(path[-1]), allowed + _field_names(site.owner, aliases=False))
        message = f"unknown key{hint} (allowed: {', '.join(allowed)})"
        return Problem(parsed.locate(path, key=True), path, message)
    if kind == "missing":
        return Problem(parsed.locate(path), path, _missing(site, path))
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return _kind_problem(site, path, parsed)
    return Problem(parsed.locate(path), path, _wrong_value(error, site))


def _kind_problem(site: _Site, path: KeyPath, parsed: ParsedFile) -> Problem:
    """A service whose ``kind`` is unknown, missing, or written under a misspelt key."""
    kinds = _tags(site.annotation)
    written = site.data if isinstance(site.data, dict) else {}
    if "kind" in written:
        tag = str(written["kind"])
        message = f"unknown kind {tag!r}{did_you_mean(tag, kinds)} (kinds: {', '.join(kinds)})"
        return Problem(parsed.locate((*path, "kind")), (*path, "kind"), message)
    if misspelt := difflib.get_close_matches("kind", list(written), n=1, cutoff=0.5):
        message = f"unknown key; did you mean 'kind'? (one of: {', '.join(kinds)})"
        return Problem(parsed.locate((*path, misspelt[0]), key=True), (*path, misspelt[0]), message)
    message = f"missing required key; add 'kind: ' with one of: {', '.join(kinds)}"
    return Problem(parsed.locate((*path, "kind")), (*path, "kind"), message)


def _missing(site: _Site, path: KeyPath) -> str:
    name = str(path[-1])
    field = site.owner.model_fields.get(name) if site.owner else None
    about = f" ({field.description})" if field and field.description else ""
    if len(path) == 1:
        parent = "at the top of the file"
    else:
        parent = f"under '{dotted(path[-3:-1] if isinstance(path[-2], int) else path[-2:-1])}'"
    return f"missing required key; add '{name}: ...' {parent}{about}"


def _wrong_value(error: ErrorDetails, site: _Site) -> str:
    kind, value = error["type"], error["input"]
    got = f"got {_describe(value)}"
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
    quoted = isinstance(value, dict | list) or repr(value) in message
    return message if quoted else f"{message}; {got}"


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (YAML reads yes/no/on/off as true/false; quote it for text)"
    if isinstance(value, date):
        return f"{value.isoformat()} (YAML reads this as a date; quote it for text)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _site(model: type[BaseModel], loc: tuple[int | str, ...], data: object) -> _Site:
    path: list[str | int] = []
    owner: type[BaseModel] | None = None
    current: object = model
    after_tag = False
    for element in loc:
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


def _tagged(annotation: object) -> dict[str, type[BaseModel]]:
    """Members of a union of models told apart by their ``kind`` literal, by kind."""
    annotation = _strip(annotation)
    if not _is_union(annotation):
        return {}
    members: dict[str, type[BaseModel]] = {}
    for member in _non_null(annotation):
        if _is_model(member) and (kind := member.model_fields.get("kind")):
            members.update({str(tag): member for tag in _literals(kind.annotation)})
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
