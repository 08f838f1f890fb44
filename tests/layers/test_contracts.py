"""The layers of docs/architecture.md hold: import-linter keeps its contracts on the code, and
the contracts break on a copy of it with one import that goes up the layers."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint(project: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the opsproof package found first in ``project``."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_code_keeps_its_layers() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_an_import_up_the_layers_breaks_the_contract(tmp_path: Path) -> None:
    shutil.copytree(
        ROOT / "opsproof", tmp_path / "opsproof", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    helper = tmp_path / "opsproof" / "support" / "text.py"
    helper.write_text(helper.read_text() + "\nfrom opsproof.stack import launcher\n")
    result = lint(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "opsproof.support is not allowed to import opsproof.stack" in result.stdout
    assert "opsproof.support.text -> opsproof.stack.launcher" in result.stdout
