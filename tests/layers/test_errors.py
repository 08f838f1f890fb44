"""One exception tree in one module: every exception class opsproof defines is in
opsproof/errors.py, under OpsproofError."""

import ast
import builtins
from pathlib import Path

from opsproof import errors

PACKAGE = Path(__file__).resolve().parents[2] / "opsproof"
EXCEPTIONS = {
    name
    for source in (builtins, errors)
    for name, value in vars(source).items()
    if isinstance(value, type) and issubclass(value, BaseException)
}


def exception_classes_outside_errors(package: Path) -> list[str]:
    """``module:Class`` for each class outside errors.py whose base is an exception."""
    found = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "errors.py" and path.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                bases = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                if bases & EXCEPTIONS:
                    found.append(f"{path.relative_to(package.parent)}:{node.name}")
    return found


def test_every_exception_is_defined_in_errors() -> None:
    assert exception_classes_outside_errors(PACKAGE) == []


def test_every_error_derives_from_the_root() -> None:
    defined = [
        v for v in vars(errors).values() if isinstance(v, type) and v.__module__ == errors.__name__
    ]
    assert len(defined) > 20
    signals = [kind for kind in defined if not issubclass(kind, Exception)]
    assert signals == [errors.BudgetSpent]  # the one signal, documented in the tree
    assert all(issubclass(error, errors.OpsproofError) for error in defined if error not in signals)


def test_an_exception_defined_elsewhere_is_found(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text("class _Unanswered(Exception):\n    pass\n")
    (tmp_path / "stack.py").write_text("class Gone(errors.StackError):\n    pass\n")
    assert exception_classes_outside_errors(tmp_path) == [
        f"{tmp_path.name}/probe.py:_Unanswered",
        f"{tmp_path.name}/stack.py:Gone",
    ]
