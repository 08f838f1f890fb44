"""The manifest of a directory tree: every entry's type, permissions, size and sha256.

Stored as JSON beside the archive, with its own ``.sha256`` beside it, so that a manifest
edited to match a damaged archive is caught too.
"""

import os
import stat
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from opsproof.backup.store import sha256_file

EntryKind = Literal["file", "dir", "symlink"]


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str
    """Relative to the tree's root, with ``/`` separators."""
    kind: EntryKind
    mode: str
    """Permission bits in octal, e.g. ``0640``."""
    size: int | None = None
    sha256: str | None = None
    link: str | None = None
    """A symlink's target, as written (not followed)."""


class FileManifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    root: str
    created_at: AwareDatetime
    archive: str
    archive_sha256: str
    entries: list[Entry]


def _entry(path: Path, relative: str) -> Entry:
    info = path.lstat()
    mode = f"{stat.S_IMODE(info.st_mode):04o}"
    if stat.S_ISLNK(info.st_mode):
        return Entry(path=relative, kind="symlink", mode=mode, link=str(path.readlink()))
    if stat.S_ISDIR(info.st_mode):
        return Entry(path=relative, kind="dir", mode=mode)
    return Entry(path=relative, kind="file", mode=mode, size=info.st_size, sha256=sha256_file(path))


def scan(root: Path) -> list[Entry]:
    """Every directory, regular file and symlink under ``root`` (not root itself), sorted;
    symlinks are recorded, never followed."""
    entries = []
    for directory, dirs, files in os.walk(root, followlinks=False):
        dirs.sort()
        for name in [*dirs, *sorted(files)]:
            path = Path(directory) / name
            entries.append(_entry(path, path.relative_to(root).as_posix()))
    return sorted(entries, key=lambda entry: entry.path)
