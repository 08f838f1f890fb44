"""evidence.json has a versioned JSON Schema, shipped with opsproof and generated from the model:
the two never drift apart, and every record the writers produce validates against it."""

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, ValidationError

from opsproof.evidence.model import SCHEMA_VERSION, RunRecord
from opsproof.evidence.records import DrillRecord, ExperimentRecord
from opsproof.evidence.schema import generated_schema, render_schema, shipped_schema_text
from opsproof.evidence.writers import write_json
from opsproof.support.redact import Redactor


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(shipped_schema_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_shipped_schema_is_the_one_the_model_generates() -> None:
    assert shipped_schema_text() == render_schema(generated_schema()), (
        "the evidence model changed: regenerate with `python -m opsproof.evidence.schema` and "
        "raise SCHEMA_VERSION if existing readers would break"
    )
    assert json.loads(shipped_schema_text())["$id"] == f"urn:opsproof:evidence:{SCHEMA_VERSION}"


def test_a_full_run_record_validates(
    tmp_path: Path,
    run: RunRecord,
    validator: Draft202012Validator,
    experiment: Callable[..., ExperimentRecord],
    drill: Callable[..., DrillRecord],
) -> None:
    full = replace(run, experiments=[experiment(), experiment(None)], drills=[drill(), drill(None)])
    path = tmp_path / "evidence.json"
    write_json(full, path, Redactor())
    validator.validate(json.loads(path.read_text()))


@pytest.mark.parametrize(
    ("key", "value"),
    [("schema_version", 1), ("exit_status", "0"), ("checks", [{"id": "x"}]), ("extra", 1)],
)
def test_a_wrong_document_is_rejected(
    tmp_path: Path, run: RunRecord, validator: Draft202012Validator, key: str, value: object
) -> None:
    path = tmp_path / "evidence.json"
    write_json(run, path, Redactor())
    document = json.loads(path.read_text())
    document[key] = value
    with pytest.raises(ValidationError):
        validator.validate(document)
