"""README.md and docs/*.md: every relative link and anchor resolves, and the README stays short
enough to scan."""

from pathlib import Path

from tests.docs.markdown import anchors, broken_links

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_LINES = 200


def test_every_relative_link_in_the_readme_and_docs_resolves() -> None:
    assert len(PAGES) > 5
    assert broken_links(PAGES) == []


def test_the_readme_is_at_most_200_lines() -> None:
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_LINES, f"README.md has {lines} lines; move reference text to docs/"


def test_a_missing_file_or_heading_is_named_and_code_is_not_a_link(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# B\n\n## A heading\n", encoding="utf-8")
    page = tmp_path / "a.md"
    page.write_text(
        "[gone](missing.md) [nowhere](b.md#elsewhere) [fine](b.md#a-heading) [self](#a)\n"
        "![picture](img/none.png) [web](https://example.com/x.md)\n\n"
        "`[code](missing.md)`\n\n```\n[fenced](missing.md)\n```\n\n# A\n",
        encoding="utf-8",
    )
    assert broken_links([page]) == [
        f"{page}: missing.md (no such file)",
        f"{page}: b.md#elsewhere (no such heading in b.md)",
        f"{page}: img/none.png (no such file)",
    ]


def test_anchors_are_the_ones_github_makes() -> None:
    text = "## `environments.<name>` — `kind: http`\n## Chaos experiments\n## Chaos experiments\n"
    assert anchors(text) == {
        "environmentsname--kind-http",
        "chaos-experiments",
        "chaos-experiments-1",
    }
