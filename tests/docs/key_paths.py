"""Every key path a config model accepts, read from its JSON Schema: a second, independent
reading of the models beside the reference generator's, so the two cannot share a blind spot."""

from typing import Any

from pydantic import BaseModel


def key_paths(model: type[BaseModel]) -> set[str]:
    """``environments.<name>.smoke[].request.path`` for every key, in every variant."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    paths: set[str] = set()

    def visit(node: dict[str, Any], path: str) -> None:
        if "$ref" in node:
            node = definitions[node["$ref"].rpartition("/")[2]]
        for combined in ("anyOf", "oneOf", "allOf"):
            for member in node.get(combined, []):
                visit(member, path)
        for key, child in node.get("properties", {}).items():
            paths.add(f"{path}.{key}" if path else key)
            visit(child, f"{path}.{key}" if path else key)
        if isinstance(node.get("additionalProperties"), dict):
            visit(node["additionalProperties"], f"{path}.<name>")
        if isinstance(node.get("items"), dict):
            visit(node["items"], f"{path}[]")

    visit(schema, "")
    return paths


def undocumented(model: type[BaseModel], reference: str) -> list[str]:
    """The key paths of ``model`` that ``reference`` does not name (as ```path```)."""
    return sorted(path for path in key_paths(model) if f"`{path}`" not in reference)
