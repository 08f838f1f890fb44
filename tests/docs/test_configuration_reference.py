"""docs/configuration.md is the config models' own reference: regenerated it is identical, and
every key path the models accept is in it."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from opsproof.config.durations import Duration
from opsproof.config.models import ConfigFile
from opsproof.config.reference import render
from tests.docs.key_paths import key_paths, undocumented

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
REGENERATE = ".venv/bin/python -m opsproof.config.reference > docs/configuration.md"


def test_the_committed_reference_is_the_generated_one() -> None:
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        f"docs/configuration.md differs from the models; regenerate it: {REGENERATE}"
    )


def test_every_key_path_of_the_models_is_in_the_reference() -> None:
    missing = undocumented(ConfigFile, REFERENCE.read_text(encoding="utf-8"))
    assert missing == [], f"not in docs/configuration.md: {missing}; regenerate: {REGENERATE}"
    assert len(key_paths(ConfigFile)) > 150  # the reading saw the whole model, unions included


class _Grown(ConfigFile):
    retention: Duration = Field(default=86400.0, description="how long runs are kept")


def test_a_key_added_to_the_models_makes_the_committed_reference_stale() -> None:
    committed = REFERENCE.read_text(encoding="utf-8")
    assert render(_Grown) != committed
    assert undocumented(_Grown, committed) == ["retention"]
    assert "| `retention` | duration | `1d` | how long runs are kept |" in render(_Grown)


def test_a_key_missing_from_the_reference_is_named() -> None:
    row = "`environments.<name>.services.<name>.health.path`"
    text = REFERENCE.read_text(encoding="utf-8")
    assert text.count(row) == 1
    stale = text.replace(row, "`environments.<name>.services.<name>.health.url`")
    assert undocumented(ConfigFile, stale) == ["environments.<name>.services.<name>.health.path"]


class _Leaf(BaseModel):
    depth: int = 0


class _Cat(BaseModel):
    """A cat."""

    kind: Literal["cat"]
    lives: int = Field(default=9, ge=1, le=9)
    leaf: _Leaf | None = None


class _Dog(BaseModel):
    kind: Literal["dog"]
    tricks: list[_Leaf] = Field(default_factory=list)


class _Pets(BaseModel):
    pets: dict[str, Annotated[_Cat | _Dog, Field(discriminator="kind")]]


def test_maps_lists_and_each_variant_of_a_union_are_walked_alike_by_both_readings() -> None:
    assert key_paths(_Pets) == {
        "pets",
        "pets.<name>.kind",
        "pets.<name>.lives",
        "pets.<name>.leaf",
        "pets.<name>.leaf.depth",
        "pets.<name>.tricks",
        "pets.<name>.tricks[].depth",
    }
    page = render(_Pets)
    assert undocumented(_Pets, page) == []
    assert "## `pets.<name>` — `kind: cat`\n\nA cat." in page
    assert "| `pets.<name>.lives` | whole number, ≥ 1, ≤ 9 | `9` |" in page
    assert "| `pets` | map of name to object, by `kind`: `cat`, `dog` | required |" in page


def test_types_defaults_and_bounds_are_written_as_a_config_file_writes_them() -> None:
    page = render()
    interval = "`environments.<name>.chaos_plan.recovery.interval`"
    assert f"| {interval} | duration, > 0, ≤ 100ms | `50ms` | polling interval" in page
    assert "| `environments.<name>.services.<name>.max_body` | size, > 0, ≤ 1GiB | `4MiB` |" in page
    fault = "`environments.<name>.chaos_plan.experiments[].fault`"
    assert f"## {fault} — `action: kill | stop | restart | pause`" in page
    assert "| `environments.<name>.smoke[].request.json` | any JSON value |" in page  # the alias
