"""Read a config file into plain data plus the line and column of every key and value.

PyYAML's loaders drop positions and silently keep the last of two equal keys, so the data is
built here from the composed node tree, using the safe constructor for scalars only. Building
copies what an alias refers to, so the copies are counted: a few lines of nested aliases (an
"alias bomb") would otherwise expand to billions of values.
"""

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import yaml
from yaml.error import Mark, MarkedYAMLError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from opsproof.config.problems import KeyPath, Position, Problem, config_error, excerpt
from opsproof.errors import AliasesTooLarge

_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"
MAX_ALIAS_VALUES = 50_000
"""Values an alias or merge key may add beyond those written; a config's few reused blocks
(the shipped one: about 200) stay far below, a bomb's 10⁹ stop here within a second."""

_SYNTAX_HINTS = {
    "'\\t'": "indent with spaces; YAML does not allow tabs",
    "mapping values are not allowed": "fix the indentation, or quote a value that contains ': '",
    "expected a single document": "keep one document in the file; remove the extra '---'",
}


@dataclass(frozen=True)
class ParsedFile:
    """A config file as data, and where each part of it was written."""

    source: str
    data: object
    keys: Mapping[KeyPath, Position]
    """Position of the key naming each mapping entry."""
    values: Mapping[KeyPath, Position]
    """Position of each value, or of its key when the value starts on a later line."""

    def locate(self, path: KeyPath, *, key: bool = False) -> Position:
        """Where to point for ``path``; an absent path (a missing key) points at its parent."""
        if key and path in self.keys:
            return self.keys[path]
        while path and path not in self.values:
            path = path[:-1]
        return self.values.get(path, Position(1, 1))


_LIBYAML = getattr(yaml, "CSafeLoader", None)
"""PyYAML's C parser (libyaml), when installed: it composes the node tree ten times faster,
at the same lines and columns."""


def parse(text: str, source: str) -> ParsedFile:
    """Parse YAML text; raises ConfigError for syntax errors, duplicate keys and unsafe tags.

    A file libyaml cannot read is read again by PyYAML's own parser, whose error messages the
    hints below are written for."""
    with _collector_paused():
        if _LIBYAML is not None:
            try:
                return _build(_LIBYAML(text), source)
            except yaml.YAMLError:
                pass
        try:
            loader = yaml.SafeLoader(text)
        except yaml.reader.ReaderError as exc:
            raise config_error(source, [_unprintable(text, exc)]) from None
        try:
            return _build(loader, source)
        except MarkedYAMLError as exc:
            raise config_error(source, [_syntax_problem(exc)]) from None


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The node tree and the data built from it hold no reference cycles, yet every object
    they add brings the cyclic collector's next pass nearer, and each pass rescans them: a
    1 MB file parsed 2.5 times slower with it running."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(loader: "yaml.SafeLoader | yaml.CSafeLoader", source: str) -> ParsedFile:
    """The file's data from ``loader``'s node tree; YAML syntax errors propagate."""
    builder = _Builder(loader)
    try:
        node = loader.get_single_node()
        data = None if node is None else builder.build(node, (), None)
    except AliasesTooLarge as exc:
        message = (
            f"aliases here expand to more than {MAX_ALIAS_VALUES:,} values beyond those written; "
            "write the repeated values out, or alias fewer and smaller blocks"
        )
        at = Position(exc.line, exc.column)
        raise config_error(source, [Problem(at, exc.path, message)]) from None
    except RecursionError:
        message = "lists and mappings nest too deeply to read; flatten the file"
        raise config_error(source, [Problem(Position(1, 1), (), message)]) from None
    finally:
        loader.dispose()
    if builder.problems:
        raise config_error(source, builder.problems)
    return ParsedFile(source, data, builder.keys, builder.values)


def _position(mark: Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _unprintable(text: str, exc: yaml.reader.ReaderError) -> Problem:
    line = text.count("\n", 0, exc.position) + 1
    column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
    message = f"YAML cannot contain the character {chr(exc.character)!r}; remove it"
    return Problem(Position(line, column), (), message)


def _syntax_problem(exc: MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.context_mark and exc.problem:
        message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    hint = next((h for pattern, h in _SYNTAX_HINTS.items() if pattern in problem), None)
    message += f"; {hint}" if hint else "; check the indentation and quoting here and above"
    return Problem(_position(mark) if mark else Position(1, 1), (), message)


class _Builder:
    """Builds data from nodes, recording positions and collecting problems."""

    def __init__(self, loader: "yaml.SafeLoader | yaml.CSafeLoader") -> None:
        self._loader = loader
        self._open: set[int] = set()
        self._built: set[int] = set()
        self._copies = 0
        self.keys: dict[KeyPath, Position] = {}
        self.values: dict[KeyPath, Position] = {}
        self.problems: list[Problem] = []

    def build(self, node: Node, path: KeyPath, key_mark: Mark | None) -> object:
        if id(node) in self._built:  # a node built before is reached again through an alias
            self._copies += 1
            if self._copies > MAX_ALIAS_VALUES:
                at = _position(key_mark or node.start_mark)
                raise AliasesTooLarge(at.line, at.column, path)
        self._built.add(id(node))
        mark = node.start_mark
        if key_mark is not None and key_mark.line != mark.line:
            mark = key_mark  # a block value starts below its key; point at the key's line
        self.values[path] = _position(mark)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        return self._collection(node, path)

    def _collection(self, node: Node, path: KeyPath) -> object:
        if id(node) in self._open:
            self._problem(node, path, "an alias refers to a collection containing it; remove it")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, MappingNode) and node.tag == _MAP:
                return self._mapping(node, path)
            if isinstance(node, SequenceNode) and node.tag == _SEQ:
                return [self.build(item, (*path, i), None) for i, item in enumerate(node.value)]
            self._problem(node, path, f"unsupported tag {node.tag!r}; remove it")
            return None
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: ScalarNode, path: KeyPath) -> object:
        try:
            return self._loader.construct_object(node)
        except MarkedYAMLError as exc:
            self._problem(node, path, f"{exc.problem}; remove the tag or quote the value")
        # PyYAML's int, float and timestamp constructors fail like this on explicitly tagged junk
        except (ValueError, TypeError, AttributeError):
            tag = node.tag.rpartition(":")[2]
            message = (
                f"{excerpt(node.value)} cannot be read as {tag!r}; fix it, or quote it for text"
            )
            self._problem(node, path, message)
        return None

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, object]:
        result: dict[str, object] = {}
        merged: list[MappingNode] = []
        seen: dict[str, Mark] = {}
        entries: list[tuple[str, ScalarNode, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.extend(self._merge_sources(value_node, path))
            elif not isinstance(key_node, ScalarNode):
                self._problem(key_node, path, "a key must be plain text, not a list or mapping")
            elif key_node.value in seen:
                first = seen[key_node.value].line + 1
                self._problem(
                    key_node,
                    (*path, key_node.value),
                    f"duplicate key (first at line {first}); YAML would silently keep only "
                    "the last one, so remove one of them",
                )
            else:
                seen[key_node.value] = key_node.start_mark
                entries.append((key_node.value, key_node, value_node))
        # YAML merge keys: explicit entries win, then earlier merged mappings over later ones
        for source in reversed(merged):
            merged_value = self._collection(source, path)
            if isinstance(merged_value, dict):
                result.update(merged_value)
        for name, key_node, value_node in entries:
            self.keys[(*path, name)] = _position(key_node.start_mark)
            result[name] = self.build(value_node, (*path, name), key_node.start_mark)
        return result

    def _merge_sources(self, node: Node, path: KeyPath) -> list[MappingNode]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        if all(isinstance(s, MappingNode) and s.tag == _MAP for s in sources):
            return list(sources)
        self._problem(node, path, "'<<' merges an anchored mapping (<<: *name) or a list of them")
        return []

    def _problem(self, node: Node, path: KeyPath, message: str) -> None:
        self.problems.append(Problem(_position(node.start_mark), path, message))
