"""Files: an archive whose manifest vouches for itself, restoring to the very tree it recorded."""

import tempfile
from pathlib import Path

import pytest

from opsproof.backup.files.archive import extract
from opsproof.backup.files.verify import archive_intact, tree_matches
from opsproof.backup.session import DrSession
from opsproof.backup.targets import FilesTarget
from opsproof.errors import BackupError
from opsproof.probes.result import Observation
from opsproof.verify import Verifier

pytestmark = [
    pytest.mark.control("SOC2:A1.2", "ISO27001:A.8.13", "NIST800-53:CP-9"),
    pytest.mark.severity("medium"),
]


def test_files_archive_intact(
    files_source: FilesTarget, dr_session: DrSession, verify: Verifier
) -> None:
    """The manifest matches its own sha256, and the archive the manifest's."""
    backup = dr_session.files_backup(files_source).get()
    verify(lambda: archive_intact(backup.manifest_file, backup.archive))


@pytest.mark.control("NIST800-53:CP-9(1)")
def test_files_restore_matches_manifest(
    files_source: FilesTarget, dr_session: DrSession, verify: Verifier
) -> None:
    """Extracted, the archive is the tree: no file missing or extra, same content and modes."""
    backup = dr_session.files_backup(files_source).get()
    with tempfile.TemporaryDirectory(prefix="opsproof-files-restore-") as scratch:
        try:
            extract(backup.archive, Path(scratch))
            result = tree_matches(backup.manifest, Path(scratch))
        except BackupError as exc:
            result = Observation(False, str(backup.archive), str(exc))
    verify(lambda: result)
