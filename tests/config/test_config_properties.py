"""Properties over large input spaces: odd files, typos, wrong values and interpolated text."""

import re
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from opsproof.config import models
from opsproof.config.interpolation import escape
from opsproof.config.loader import LoadedEnvironment, load_environment
from opsproof.errors import ConfigError

if TYPE_CHECKING:
    from tests.config.conftest import ConfigFiles, Reported

# the cfg fixture only writes one file per example, so it is fine to share across examples
examples = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

FIELD_NAMES = sorted(
    {
        field.alias or name
        for model in vars(models).values()
        if isinstance(model, type) and issubclass(model, BaseModel)
        for name, field in model.model_fields.items()
    }
)
KINDS = ["http", "redis", "postgres", "prometheus", "host", "process"]
KEY_LINE = re.compile(r"^(\s*(?:- )?)([A-Za-z_][\w.-]*):(?:\s+(.*))?$")

keys = st.sampled_from(FIELD_NAMES) | st.text(min_size=1, max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["500ms", "15m", "/health", "http://127.0.0.1:1", "${X}", "${stack.a}"])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=20,
)
services = st.dictionaries(
    st.text(min_size=1, max_size=6),
    st.fixed_dictionaries({"kind": st.sampled_from(KINDS)}, optional={"x": st.none()}).flatmap(
        lambda base: st.dictionaries(keys, values, max_size=4).map(lambda more: {**more, **base})
    ),
    max_size=3,
)
environments = st.fixed_dictionaries({"services": services}, optional={}).flatmap(
    lambda base: st.dictionaries(keys, values, max_size=4).map(lambda more: {**more, **base})
)


def load_or_config_error(
    path: Path, env: str = "e", environ: dict[str, str] | None = None
) -> LoadedEnvironment | ConfigError:
    try:
        return load_environment(path, env, environ=environ or {"X": "1"}, stack=lambda: None)
    except ConfigError as exc:
        return exc


def assert_well_formed(cfg: "ConfigFiles", error: ConfigError) -> None:
    line_count = max(1, len(cfg.path.read_text().splitlines()))
    for problem in cfg.split(str(error)):
        assert 1 <= problem.line <= line_count + 1
        assert problem.column >= 1


@examples
@given(text=st.text())
def test_any_text_loads_or_raises_config_error(cfg: "ConfigFiles", text: str) -> None:
    path = cfg.path
    path.write_text(text)
    result = load_or_config_error(path)
    if isinstance(result, ConfigError):
        assert_well_formed(cfg, result)


@examples
@given(document=values | st.dictionaries(keys, values))
def test_any_yaml_document_loads_or_raises_config_error(
    cfg: "ConfigFiles", document: object
) -> None:
    cfg.path.write_text(yaml.safe_dump(document))
    result = load_or_config_error(cfg.path)
    if isinstance(result, ConfigError):
        assert_well_formed(cfg, result)


@examples
@given(environment=environments)
def test_any_environment_loads_or_raises_config_error(
    cfg: "ConfigFiles", environment: dict[str, object]
) -> None:
    cfg.path.write_text(yaml.safe_dump({"version": 1, "environments": {"e": environment}}))
    result = load_or_config_error(cfg.path)
    if isinstance(result, ConfigError):
        assert_well_formed(cfg, result)


def points_at_its_key(problem: "Reported", lines: list[str]) -> bool:
    """Whether the reported line holds the key named, or for a missing key, its parent."""
    line = lines[problem.line - 1]
    if not problem.message.startswith("missing required key"):
        named = [part for part in re.split(r"\.|\[\d+\]", problem.key) if part]
        return named[-1] in line or line.lstrip().startswith("-")
    parent = problem.key.rpartition(".")[0]
    if not parent:
        return problem.line == 1
    if parent.endswith("]"):
        return line.lstrip().startswith("-")
    return parent.rpartition(".")[2] in line


def staging_key_lines(text: str) -> list[int]:
    """Indices of lines inside the staging environment that start with a key."""
    lines = text.splitlines()
    start, end = lines.index("  staging:"), lines.index("  production:")
    return [n for n in range(start + 1, end) if KEY_LINE.match(lines[n])]


@examples
@given(data=st.data())
def test_a_typo_in_any_key_is_reported_on_its_line(cfg: "ConfigFiles", data: st.DataObject) -> None:
    lines = cfg.valid.splitlines()
    index = data.draw(st.sampled_from(staging_key_lines(cfg.valid)))
    match = KEY_LINE.match(lines[index])
    assert match
    indent, key = match.group(1), match.group(2)
    at = data.draw(st.integers(0, len(key)))
    inserted = data.draw(st.text("abcdefghijklmnopqrstuvwxyz_", max_size=2))
    typo = key[:at] + inserted + key[at + data.draw(st.integers(0, 1)) :]
    assume(typo and typo != key)
    lines[index] = indent + typo + lines[index][len(indent) + len(key) :]

    result = load_or_config_error(cfg.write("\n".join(lines)), "staging", cfg.environ)
    assume(isinstance(result, ConfigError))  # e.g. a renamed header is not a mistake
    assert isinstance(result, ConfigError)
    problems = cfg.split(str(result))
    written = cfg.path.read_text().splitlines()
    assert all(points_at_its_key(p, written) for p in problems), problems
    if key in FIELD_NAMES:  # a renamed service is reported where it is referenced
        assert any(p.line == index + 1 for p in problems)


@examples
@given(data=st.data())
def test_a_wrong_value_is_reported_on_its_line(cfg: "ConfigFiles", data: st.DataObject) -> None:
    lines = cfg.valid.splitlines()
    with_values = [
        n for n in staging_key_lines(cfg.valid) if (m := KEY_LINE.match(lines[n])) and m.group(3)
    ]
    index = data.draw(st.sampled_from(with_values))
    match = KEY_LINE.match(lines[index])
    assert match
    junk = data.draw(st.sampled_from(["zz", "-1", "[]", "{}", "true", "2024-01-01", "1.5", "~"]))
    lines[index] = f"{match.group(1)}{match.group(2)}: {junk}"

    result = load_or_config_error(cfg.write("\n".join(lines)), "staging", cfg.environ)
    assume(isinstance(result, ConfigError))
    assert isinstance(result, ConfigError)
    written = cfg.path.read_text().splitlines()
    problems = cfg.split(str(result))
    assert all(points_at_its_key(p, written) for p in problems), problems


safe_text = st.text(st.characters(exclude_categories=["Cs"]))


@examples
@given(text=safe_text)
def test_escaped_text_survives_yaml_and_interpolation(cfg: "ConfigFiles", text: str) -> None:
    document = {"environments": {"e": {"description": escape(text), "services": {}}}}
    cfg.path.write_text(yaml.safe_dump(document))
    loaded = load_environment(cfg.path, "e", environ={})
    assert loaded.environment.description == text


@examples
@given(
    value=safe_text,
    default=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="}$")),
)
def test_variables_and_defaults_are_inserted_verbatim(
    cfg: "ConfigFiles", value: str, default: str
) -> None:
    description = "<${VALUE}|${UNSET:-" + default + "}>"
    document = {"environments": {"e": {"description": description, "services": {}}}}
    cfg.path.write_text(yaml.safe_dump(document))
    loaded = load_environment(cfg.path, "e", environ={"VALUE": value})
    assert loaded.environment.description == f"<{value}|{default}>"


def test_field_names_cover_the_models() -> None:
    # guards the strategies above against a model refactor leaving them nothing to draw
    assert {"kind", "url", "json", "max_memory_ratio", "services"} <= set(FIELD_NAMES)
