"""The JSON Schema of ``evidence.json``, shipped per schema version and generated from the model.

A change to the model changes the generated schema; the tests compare it with the shipped file,
so a change is a deliberate new schema file (and a new ``SCHEMA_VERSION`` when it breaks
readers). Regenerate with ``python -m opsproof.evidence.schema``.
"""

import json
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from opsproof.evidence.model import SCHEMA_VERSION, RunRecord

SCHEMA_RESOURCE = f"data/evidence-{SCHEMA_VERSION}.schema.json"


def generated_schema() -> dict[str, Any]:
    schema = TypeAdapter(RunRecord).json_schema(mode="serialization")
    schema["properties"]["schema_version"] = {"const": SCHEMA_VERSION}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:opsproof:evidence:{SCHEMA_VERSION}",
        **schema,
        "title": f"opsproof evidence.json, schema version {SCHEMA_VERSION}",
    }


def render_schema(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def shipped_schema_text() -> str:
    return resources.files("opsproof.evidence").joinpath(SCHEMA_RESOURCE).read_text()


if __name__ == "__main__":
    target = Path(__file__).with_name("data") / Path(SCHEMA_RESOURCE).name
    target.write_text(render_schema(generated_schema()))
    print(f"wrote {target}")
