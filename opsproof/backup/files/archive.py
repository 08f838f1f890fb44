"""Archive a directory tree with its manifest, and extract an archive for verification."""

import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from opsproof.backup.files.manifest import FileManifest, scan
from opsproof.backup.store import dated_path, sha256_file, write_checksum
from opsproof.errors import BackupError

MANIFEST_SUFFIX = ".manifest.json"


@dataclass(frozen=True)
class FilesBackup:
    source: str
    archive: Path
    manifest_file: Path
    manifest: FileManifest
    duration_s: float


def manifest_path(archive: Path) -> Path:
    return archive.with_name(archive.name.removesuffix(".tar.gz") + MANIFEST_SUFFIX)


def back_up(root: Path, name: str, store: Path) -> FilesBackup:
    """Archive ``root`` as ``files-<name>-<UTC stamp>.tar.gz`` in ``store``, with its manifest
    and a ``.sha256`` beside each."""
    if not root.is_dir():
        raise BackupError(f"{root}: not a directory; nothing to back up")
    started = time.monotonic()
    created = datetime.now(UTC)
    archive = dated_path(store, f"files-{name}", created, ".tar.gz")
    entries = scan(root)
    try:
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            for entry in entries:
                tar.add(root / entry.path, arcname=entry.path, recursive=False)
    except OSError as exc:
        raise BackupError(f"{root}: cannot archive {exc.filename}: {exc.strerror}") from None
    write_checksum(archive)
    manifest = FileManifest(
        root=str(root),
        created_at=created,
        archive=archive.name,
        archive_sha256=sha256_file(archive),
        entries=entries,
    )
    manifest_file = manifest_path(archive)
    manifest_file.write_text(manifest.model_dump_json(indent=1))
    write_checksum(manifest_file)
    return FilesBackup(name, archive, manifest_file, manifest, time.monotonic() - started)


def extract(archive: Path, destination: Path) -> None:
    """Unpack ``archive`` into ``destination`` with tarfile's ``tar`` filter: no absolute paths
    or escapes, and set-id bits and group/other write bits are cleared (so a tree that had
    those fails the permission check: it did not come back as it was)."""
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(destination, filter="tar")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BackupError(f"{archive}: cannot extract: {exc}") from None
