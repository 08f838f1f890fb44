"""Data with comments → YAML text, through ruamel.yaml (already installed with compliance-trestle,
and the one well-kept Python library that writes comments), read back as opsproof reads it.

A value wrapped in ``Commented`` gets its comment lines above its key; ``flow`` writes a small
mapping or list on one line. Strings that PyYAML (YAML 1.1, what opsproof's loader uses) would
read as something else (``on``, ``0755``, ``1:30``) are quoted, and the text is parsed back and
compared with the data before it is returned.
"""

import io
import re
import textwrap
from dataclasses import dataclass

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from yaml.nodes import ScalarNode

_RESOLVER = yaml.resolver.Resolver()
_STR = "tag:yaml.org,2002:str"
_FLOW_SPECIAL = re.compile(r"[?,\[\]{}#&*!|>'\"%@`]|: ")
WIDTH = 100
"""Comment lines are wrapped to this; values are never folded (a URL stays on its key's line)."""
NO_FOLDING = 1 << 16
INDENT = 2
SEQUENCE_OFFSET = 2


@dataclass(frozen=True)
class Commented:
    """A value, the comment lines written above its key, and whether it fits on one line."""

    value: object
    comment: tuple[str, ...] = ()
    flow: bool = False


def render(document: dict[str, object], header: tuple[str, ...] = ()) -> str:
    """The YAML text of ``document``, ``header`` as the file's opening comment lines."""
    root = _node(document, column=0, flow=False)
    assert isinstance(root, CommentedMap)
    if header:
        root.yaml_set_start_comment("\n".join(_wrapped(header, 0)))
    writer = YAML()
    writer.indent(mapping=INDENT, sequence=INDENT + SEQUENCE_OFFSET, offset=SEQUENCE_OFFSET)
    writer.width = NO_FOLDING
    stream = io.StringIO()
    writer.dump(root, stream)
    text = stream.getvalue()
    try:
        same = yaml.safe_load(text) == plain(document)
    except yaml.YAMLError:
        same = False
    if not same:
        raise AssertionError("the rendered YAML does not read back as the data it was made from")
    return text


def plain(value: object) -> object:
    """``value`` without its comments: what the YAML must read back as."""
    if isinstance(value, Commented):
        return plain(value.value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def _node(value: object, column: int, flow: bool) -> object:
    if isinstance(value, Commented):
        return _node(value.value, column, flow or value.flow)
    if isinstance(value, dict):
        mapping = CommentedMap()
        for name, item in value.items():
            key = _quoted(name)
            mapping[key] = _node(item, column + INDENT, flow)
            if isinstance(item, Commented) and item.comment:
                text = "\n".join(_wrapped(item.comment, column))
                mapping.yaml_set_comment_before_after_key(key, before=text, indent=column)
        if flow:
            mapping.fa.set_flow_style()
        return mapping
    if isinstance(value, list | tuple):
        items = CommentedSeq(_node(item, column + INDENT + SEQUENCE_OFFSET, flow) for item in value)
        if flow:
            items.fa.set_flow_style()
        return items
    return _quoted(value, flow)


def _quoted(value: object, flow: bool = False) -> object:
    """A string PyYAML would read as something else (``on``, ``0755``), or misparse on one
    line (``/ping?x=1`` in ``{path: …}``), in double quotes."""
    if not isinstance(value, str):
        return value
    if _read_as(value) != _STR or (flow and _FLOW_SPECIAL.search(value)):
        return DoubleQuotedScalarString(value)
    return value


def _read_as(text: str) -> str:
    """The tag PyYAML gives ``text`` written plain (``on`` is a bool in YAML 1.1)."""
    tag: str = _RESOLVER.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _wrapped(lines: tuple[str, ...], column: int) -> list[str]:
    width = WIDTH - column - 2
    return [part for line in lines for part in (textwrap.wrap(line, width) or [""])]
