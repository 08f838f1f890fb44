"""Installed programs by name, with the Debian package to install when one is missing."""

import shutil
from pathlib import Path

from opsproof.errors import ToolMissing


def find_program(name: str, *dirs: Path, package: str) -> str:
    """Absolute path of ``name`` on PATH or in ``dirs``; the error names the package to install."""
    for candidate in [shutil.which(name), *(shutil.which(name, path=str(d)) for d in dirs)]:
        if candidate:
            # Absolute, but not resolved: redis-server is a symlink whose name selects its mode.
            return str(Path(candidate).absolute())
    raise ToolMissing(f"{name} not found on PATH: install it (apt-get install {package})")


def postgres_bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/<major>/bin`` (Debian keeps server binaries off PATH),
    else the directory of ``postgres`` on PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    return Path(find_program("postgres", package="postgresql")).parent
