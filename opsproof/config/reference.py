"""The configuration reference, generated from the config models so that it cannot drift from
what the loader accepts.

``python -m opsproof.config.reference > docs/configuration.md`` writes it; a test regenerates it
and fails when the committed page differs. Keys are named by their path in the file
(``environments.<name>.services.<name>.health.path``), the shape of the loader's errors, never by
a model's class name; a discriminated union gets one section per tag value (``kind``,
``action``).
"""

import inspect
import math
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ByteSize, JsonValue
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from opsproof.config.durations import Duration, PositiveDuration
from opsproof.config.limits import CountLimit, LatencyLimit, RateLimit
from opsproof.config.models import ConfigFile
from opsproof.config.shares import CpuShare, LimitShare, Since
from opsproof.config.values import (
    Bytes,
    ExpectedStatus,
    FilePath,
    FlowPath,
    HeaderName,
    HeaderValue,
    Hostname,
    HttpStatus,
    Number,
    Port,
    RequestPath,
    Version,
    Whole,
    status_text,
)

Render = Callable[[Any], str]
"""How a value of one type is written in the page: durations as ``30s``, sizes as ``4MiB``."""


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _units(value: float, units: tuple[tuple[str, float], ...]) -> str:
    """``value`` in the largest unit that writes it without a fraction."""
    for name, size in units:
        if value >= size and math.isclose(value / size, round(value / size)):
            return f"{round(value / size)}{name}"
    return _number(value)


def _duration(seconds: Any) -> str:
    if seconds == 0:
        return "0"
    units = (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 0.001))
    return _units(float(seconds), units)


def _expected_status(expected: Any) -> str:
    return status_text(expected)


def _size(size: Any) -> str:
    units = tuple((f"{p}iB", float(1 << (10 * e))) for e, p in enumerate("KMGTP", start=1))
    return _units(float(size), (*units[::-1], ("B", 1.0)))


@dataclass(frozen=True)
class _Named:
    """A value type of values.py or durations.py, known by its validators."""

    alias: Any
    label: str
    render: Render = _number


_NAMED = (
    _Named(Duration, "duration", _duration),
    _Named(PositiveDuration, "duration, > 0", _duration),
    _Named(Bytes, "size", _size),
    _Named(Port, "port 1–65535"),
    _Named(HttpStatus, "HTTP status 100–599"),
    _Named(ExpectedStatus, "status, list of statuses or class (`2xx`)", _expected_status),
    _Named(FlowPath, "request path (`/…` or `${variable}…`)"),
    _Named(Number, "number"),
    _Named(Whole, "whole number"),
    _Named(Version, "`1`"),
    _Named(FilePath, "path"),
    _Named(RequestPath, "request path (`/…`)"),
    _Named(Hostname, "host name"),
    _Named(HeaderName, "header name"),
    _Named(HeaderValue, "header value"),
    _Named(RateLimit, "rate limit (`'<= 5%'`, `'< 0.01'`)"),
    _Named(LatencyLimit, "latency limit (`'< 500ms'`)"),
    _Named(CountLimit, "count limit (`'>= 20'`)"),
    _Named(CpuShare, "CPU share (`80%` of a core, `1.5` cores)", _number),
    _Named(LimitShare, "share of the limit (`80%`, `0.8`)", _number),
    _Named(Since, "`previous` or duration", lambda value: str(value)),
)

_PLAIN: dict[Any, tuple[str, Render]] = {
    str: ("string", str),
    int: ("whole number", _number),
    float: ("number", _number),
    bool: ("true or false", lambda value: str(value).lower()),
    Path: ("path", str),
    ByteSize: ("size", _size),
}


def _named(metadata: tuple[Any, ...]) -> _Named | None:
    """The named type whose validators are all among ``metadata`` (the same objects)."""
    for named in _NAMED:
        validators = [m for m in named.alias.__metadata__ if not isinstance(m, FieldInfo)]
        if all(any(v is m for m in metadata) for v in validators):
            return named
    return None


@dataclass(frozen=True)
class _Nested:
    """Objects a key holds: ``suffix`` extends its path (``.<name>`` in a map, ``[]`` in a list);
    ``tag`` is the field that tells a union's variants apart."""

    suffix: str
    models: tuple[type[BaseModel], ...]
    tag: str | None = None


@dataclass(frozen=True)
class _Shape:
    label: str
    render: Render = str
    nested: _Nested | None = None


def _shape(annotation: Any, tag: str | None = None) -> _Shape:
    """What a value of ``annotation`` is, in words, and the objects it holds."""
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        if named := _named(tuple(metadata)):
            return _Shape(named.label, named.render)
        tags = [m.discriminator for m in metadata if isinstance(m, FieldInfo)]
        return _shape(inner, next((t for t in tags if isinstance(t, str)), tag))
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return _shape(members[0], tag)
        if tag and all(_is_model(member) for member in members):
            values = [value for member in members for value in _tag_values(member, tag)]
            kinds = ", ".join(f"`{value}`" for value in values)
            label = f"object, by `{tag}`: {kinds}"
            return _Shape(label, nested=_Nested("", tuple(members), tag))
        return _Shape(" or ".join(_shape(member).label for member in members))
    if origin is Literal:
        return _Shape(" | ".join(f"`{value}`" for value in get_args(annotation)))
    if origin is dict:
        key, value = (_shape(arg) for arg in get_args(annotation))
        nested = value.nested and _Nested(".<name>" + value.nested.suffix, *_rest(value.nested))
        keys = "name" if key.label == "string" else key.label
        return _Shape(f"map of {keys} to {value.label}", nested=nested)
    if origin is list:
        item = _shape(get_args(annotation)[0])
        nested = item.nested and _Nested("[]" + item.nested.suffix, *_rest(item.nested))
        return _Shape(f"list of {item.label}", nested=nested)
    if _is_model(annotation):
        return _Shape("object", nested=_Nested("", (annotation,)))
    if annotation is JsonValue or annotation == JsonValue:
        return _Shape("any JSON value")
    label, render = _PLAIN.get(annotation, (getattr(annotation, "__name__", str(annotation)), str))
    return _Shape(label, render)


def _rest(nested: _Nested) -> tuple[tuple[type[BaseModel], ...], str | None]:
    return nested.models, nested.tag


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


_BOUNDS = (
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Ge, "ge", "≥"),
    (annotated_types.Lt, "lt", "<"),
    (annotated_types.Le, "le", "≤"),
)


def _constraints(metadata: list[Any], render: Render) -> list[str]:
    """The field's bounds in words, written in its type's units."""
    found: list[str] = []
    for item in metadata:
        for kind, attribute, sign in _BOUNDS:
            if isinstance(item, kind):
                found.append(f"{sign} {render(getattr(item, attribute))}")
        if isinstance(item, annotated_types.MinLen) and item.min_length == 1:
            found.append("not empty")
    return found


def _default(field: FieldInfo, render: Render) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "`{}` (the defaults below)"
    if isinstance(value, list | dict):
        return f"`{_flow(value)}`"
    return f"`{render(value)}`" if value != "" else '`""`'


def _flow(value: Any) -> str:
    """A list or map default in YAML's flow style, models as the keys they set."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    return str(value)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _doc(model: type[BaseModel]) -> str:
    """The model's own docstring (not an inherited one), as one paragraph."""
    text = model.__dict__.get("__doc__")
    return " ".join(inspect.cleandoc(text).split()) if text else ""


@dataclass(frozen=True)
class _Section:
    path: str
    tag: str | None
    model: type[BaseModel]


def _sections(path: str, model: type[BaseModel], tag: str | None = None) -> Iterator[_Section]:
    """The object at ``path`` and, depth first, every object below it."""
    yield _Section(path, tag, model)
    for key, field in model.model_fields.items():
        nested = _field_shape(field).nested
        if nested is None:
            continue
        child = _join(path, field.alias or key) + nested.suffix
        for variant in nested.models:
            yield from _sections(child, variant, nested.tag)


def _field_shape(field: FieldInfo) -> _Shape:
    metadata = [m for m in field.metadata if not isinstance(m, annotated_types.BaseMetadata)]
    annotation = Annotated[field.annotation, *metadata] if metadata else field.annotation
    return _shape(annotation, field.discriminator if isinstance(field.discriminator, str) else None)


def _held_doc(shape: _Shape) -> str:
    """The docstring of the one kind of object a key holds: what the key is for."""
    nested = shape.nested
    return _doc(nested.models[0]) if nested and len(nested.models) == 1 else ""


def _tag_values(model: type[BaseModel], tag: str) -> tuple[str, ...]:
    return get_args(model.model_fields[tag].annotation)


def _render_section(section: _Section) -> list[str]:
    name = f"`{section.path}`" if section.path else "The file"
    if section.tag:
        name += f" — `{section.tag}: {' | '.join(_tag_values(section.model, section.tag))}`"
    lines = [f"## {name}", ""]
    if doc := _doc(section.model):
        lines += [doc, ""]
    lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, field in section.model.model_fields.items():
        shape = _field_shape(field)
        parts = [shape.label, *_constraints(field.metadata, shape.render)]
        label = ", ".join(dict.fromkeys(parts))  # `duration, > 0` needs no second `> 0`
        default = _default(field, shape.render)
        path = _join(section.path, field.alias or key)
        meaning = field.description or _held_doc(shape)
        row = (f"`{path}`", label, default, meaning)
        lines.append("| " + " | ".join(_cell(cell) for cell in row) + " |")
    return [*lines, ""]


_PREAMBLE = """\
# Configuration reference

<!-- Generated from opsproof/config/models.py by
     `python -m opsproof.config.reference > docs/configuration.md`; do not edit by hand. -->

Every key opsproof.yaml accepts, by its path in the file: `<name>` is a name you choose (an
environment, a service, a backup source), `[]` an item of a list, and a key path is how a
config error names the place (`opsproof.yaml:14:9: environments.staging.services.redis.maxmem:
unknown key; did you mean 'max_memory_ratio'?`). A key not listed here is an error. Services and
faults come in kinds told apart by their `kind` or `action`; each kind has its own section.

Durations are written `500ms`, `30s`, `2m`, `1h`, `1d` or as seconds, and are at most a year;
sizes `48MiB`, `1GiB` or bytes. Any value may use `${VAR}`, `${VAR:-default}` and, with a
reference stack, `${stack.…}`. How the file is read and checked:
[Describing a deployment](environments.md).
"""


def render(root: type[BaseModel] = ConfigFile) -> str:
    """The reference page of every key under ``root``, in Markdown."""
    seen: set[tuple[str, type[BaseModel]]] = set()
    lines = [_PREAMBLE]
    for section in _sections("", root):
        if (section.path, section.model) in seen:  # e.g. `runtime`, shared by the service kinds
            continue
        seen.add((section.path, section.model))
        lines += _render_section(section)
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
