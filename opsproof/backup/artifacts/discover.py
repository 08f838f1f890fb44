"""Find the newest backup file matching a glob; its age is judged by modification time (when
``cp`` or ``pg_dump`` wrote it), as ``find -mtime`` in the runbooks does."""

import glob
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from opsproof.backup.files.archive import MANIFEST_SUFFIX
from opsproof.backup.store import FINGERPRINT_SUFFIX, SHA256_SUFFIX

SIDECARS = (SHA256_SUFFIX, FINGERPRINT_SUFFIX, MANIFEST_SUFFIX, ".tmp")


@dataclass(frozen=True)
class Found:
    path: Path
    modified: datetime

    def age_s(self, now: datetime) -> float:
        return max(0.0, (now - self.modified).total_seconds())


def newest(pattern: str) -> Found | None:
    """The most recently modified regular file matching ``pattern`` (sidecars excluded)."""
    found = [
        Found(Path(name), datetime.fromtimestamp(Path(name).stat().st_mtime, UTC))
        for name in glob.glob(pattern)  # noqa: PTH207 - absolute patterns, which Path.glob refuses
        if Path(name).is_file() and not name.endswith(SIDECARS)
    ]
    return max(found, key=lambda f: f.modified, default=None)
