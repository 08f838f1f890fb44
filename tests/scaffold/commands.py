"""The ``opsproof`` command as a user runs it: for the tests of ``init`` and ``config check``."""

import os
import subprocess
import sys
from pathlib import Path

from tests.project import PROJECT_ROOT

CLI_TIMEOUT = 240.0
FIXTURE_COMPOSE = PROJECT_ROOT / "fixtures" / "docker-compose.yml"
WEBAPP_COMPOSE = PROJECT_ROOT / "examples" / "webapp" / "docker-compose.yml"


def opsproof(
    *args: str, env: dict[str, str] | None = None, cwd: Path = PROJECT_ROOT
) -> subprocess.CompletedProcess[str]:
    """The ``opsproof`` command, with ``env`` added to this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", "opsproof.cli", *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )


def generate(compose: Path, output: Path, *extra: str) -> Path:
    """``opsproof init --from compose``, which must succeed."""
    made = opsproof("init", "--from", str(compose), "--output", str(output), *extra)
    assert made.returncode == 0, made.stderr
    return output
