"""No public class name means two things in opsproof: a config model and an engine class (or
two engine classes) with one name make every import a guess at which is meant."""

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "opsproof"


def public_classes(package: Path) -> dict[str, list[str]]:
    """Every top-level public class name, with the modules that define it."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(package.rglob("*.py")):
        for node in ast.parse(path.read_text(), str(path)).body:
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                found[node.name].append(str(path.relative_to(package.parent)))
    return found


def test_every_public_class_name_is_defined_once() -> None:
    twice = {name: where for name, where in public_classes(PACKAGE).items() if len(where) > 1}
    assert twice == {}


def test_a_name_defined_twice_is_found(tmp_path: Path) -> None:
    for module in ("config", "engine"):
        (tmp_path / f"{module}.py").write_text("class Plan:\n    pass\n\nclass _Step:\n    pass\n")
    assert public_classes(tmp_path)["Plan"] == [
        f"{tmp_path.name}/config.py",
        f"{tmp_path.name}/engine.py",
    ]
    assert "_Step" not in public_classes(tmp_path)
