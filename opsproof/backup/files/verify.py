"""Check a manifest against its own hash and its archive, and a restored tree against it."""

from pathlib import Path

from pydantic import ValidationError

from opsproof.backup.files.manifest import Entry, FileManifest, scan
from opsproof.backup.store import read_checksum, sha256_file
from opsproof.errors import BackupError
from opsproof.probes.result import Figure, Observation

NAMES_SHOWN = 10


def load_manifest(path: Path) -> FileManifest:
    """The manifest at ``path`` once its own recorded sha256 vouches for it."""
    recorded = read_checksum(path)
    if recorded is None:
        raise BackupError(f"{path}: no {path.name}.sha256 beside it; the manifest is unvouched")
    if sha256_file(path) != recorded:
        raise BackupError(f"{path}: sha256 differs from its recorded one: the manifest changed")
    try:
        return FileManifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise BackupError(f"{path}: not a manifest ({exc.error_count()} errors)") from None


def archive_intact(manifest_file: Path, archive: Path) -> Observation:
    """The manifest vouches for itself and the archive's sha256 is the one it records."""
    target = str(archive)
    try:
        manifest = load_manifest(manifest_file)
    except BackupError as exc:
        return Observation(False, target, str(exc))
    actual = sha256_file(archive)
    figures = {"archive_sha256": Figure(actual, target=f"== {manifest.archive_sha256}")}
    if actual != manifest.archive_sha256:
        reason = f"{archive}: sha256 {actual} differs from the manifest's {manifest.archive_sha256}"
        return Observation(False, target, reason, figures)
    reason = f"{archive}: matches its manifest ({len(manifest.entries)} entries)"
    return Observation(True, target, reason, figures)


def _differences(want: Entry, got: Entry) -> list[str]:
    found = []
    if got.kind != want.kind:
        found.append(f"{want.path}: is a {got.kind}, was a {want.kind}")
    elif (got.sha256, got.size, got.link) != (want.sha256, want.size, want.link):
        found.append(f"{want.path}: content differs")
    if got.mode != want.mode:
        found.append(f"{want.path}: mode {got.mode}, was {want.mode}")
    return found


def _listed(label: str, items: list[str]) -> str:
    more = f"; … {len(items) - NAMES_SHOWN} more" if len(items) > NAMES_SHOWN else ""
    return f"{len(items)} {label} ({'; '.join(items[:NAMES_SHOWN])}{more})"


def tree_matches(manifest: FileManifest, root: Path) -> Observation:
    """The tree at ``root`` is the manifest's tree: same entries, content and permissions."""
    target = str(root)
    expected = {entry.path: entry for entry in manifest.entries}
    actual = {entry.path: entry for entry in scan(root)}
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = [
        difference
        for path in sorted(set(expected) & set(actual))
        for difference in _differences(expected[path], actual[path])
    ]
    figures = {
        "entries_expected": Figure(len(expected)),
        "entries_restored": Figure(len(actual), target=f"== {len(expected)}"),
    }
    problems = [
        _listed(label, items)
        for label, items in (("missing", missing), ("extra", extra), ("changed", changed))
        if items
    ]
    if problems:
        reason = f"{root}: differs from the manifest of {manifest.root}: {', '.join(problems)}"
        return Observation(False, target, reason, figures)
    reason = f"{root}: all {len(expected)} entries match the manifest (content, permissions)"
    return Observation(True, target, reason, figures)
