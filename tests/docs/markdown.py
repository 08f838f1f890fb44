"""What the docs checks read in Markdown: relative links and the anchors headings make.

Parsed with markdown-it-py, so links inside code blocks and code spans are not links, as on
GitHub.
"""

import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

_PARSER = MarkdownIt("commonmark").enable("table")


def _tokens(text: str) -> Iterator[Token]:
    for token in _PARSER.parse(text):
        yield token
        yield from token.children or ()


def _targets(text: str) -> Iterator[str]:
    for token in _tokens(text):
        if token.type == "link_open":
            yield str(token.attrs["href"])
        elif token.type == "image":
            yield str(token.attrs["src"])


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings: lower case, punctuation dropped, spaces to
    hyphens, a repeated one suffixed -1, -2, ..."""
    found: set[str] = set()
    tokens = _PARSER.parse(text)
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "heading_open":
            continue
        spans = inline.children or ()
        words = "".join(c.content for c in spans if c.type in ("text", "code_inline"))
        slug = re.sub(r"[^\w\- ]", "", words.strip().lower()).replace(" ", "-")
        unique, count = slug, 0
        while unique in found:
            count += 1
            unique = f"{slug}-{count}"
        found.add(unique)
    return found


def _has_anchor(page: Path, fragment: str) -> bool:
    return unquote(fragment) in anchors(page.read_text(encoding="utf-8"))


def broken_links(files: Iterable[Path]) -> list[str]:
    """``file: target (why)`` for each relative link whose file or heading does not exist."""
    problems = []
    for source in files:
        text = source.read_text(encoding="utf-8")
        for target in _targets(text):
            parts = urlsplit(target)
            if parts.scheme or parts.netloc:  # a web address: not checked offline
                continue
            path = (source.parent / unquote(parts.path)).resolve() if parts.path else source
            if not path.exists():
                problems.append(f"{source}: {target} (no such file)")
            elif parts.fragment and path.suffix == ".md" and not _has_anchor(path, parts.fragment):
                problems.append(f"{source}: {target} (no such heading in {path.name})")
    return problems
