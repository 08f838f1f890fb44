"""File backups: archive plus self-vouching manifest; a restored tree is checked for content,
missing and extra files, and permissions (negative controls included)."""

from pathlib import Path

import pytest

from opsproof.backup.files.archive import FilesBackup, back_up, extract
from opsproof.backup.files.verify import archive_intact, load_manifest, tree_matches
from opsproof.errors import BackupError


@pytest.fixture
def backup(tmp_path: Path) -> FilesBackup:
    tree = tmp_path / "config"
    (tree / "nginx" / "ssl").mkdir(parents=True)
    (tree / ".env").write_text("SECRET=1\n")
    (tree / ".env").chmod(0o600)
    (tree / "nginx" / "nginx.conf").write_text("worker_processes 1;\n")
    (tree / "nginx" / "ssl" / "server.key").write_bytes(b"\x00key")
    (tree / "nginx" / "ssl" / "server.key").chmod(0o600)
    (tree / "current").symlink_to("nginx/nginx.conf")
    return back_up(tree, "config", tmp_path / "store")


@pytest.fixture
def restored(backup: FilesBackup, tmp_path: Path) -> Path:
    target = tmp_path / "restored"
    extract(backup.archive, target)
    return target


def test_restored_tree_matches_its_manifest(backup: FilesBackup, restored: Path) -> None:
    assert archive_intact(backup.manifest_file, backup.archive).ok
    result = tree_matches(backup.manifest, restored)
    assert result.ok, result.reason
    assert "all 6 entries match" in result.reason


def test_missing_file_is_named(backup: FilesBackup, restored: Path) -> None:
    (restored / "nginx" / "ssl" / "server.key").unlink()
    result = tree_matches(backup.manifest, restored)
    assert not result.ok
    assert "1 missing (nginx/ssl/server.key)" in result.reason


def test_extra_file_is_named(backup: FilesBackup, restored: Path) -> None:
    (restored / "nginx" / "stray.conf").write_text("")
    result = tree_matches(backup.manifest, restored)
    assert not result.ok
    assert "1 extra (nginx/stray.conf)" in result.reason


def test_changed_content_and_permissions_are_named(backup: FilesBackup, restored: Path) -> None:
    (restored / "nginx" / "nginx.conf").write_text("worker_processes 9;\n")
    (restored / ".env").chmod(0o644)
    result = tree_matches(backup.manifest, restored)
    assert not result.ok
    assert "nginx/nginx.conf: content differs" in result.reason
    assert ".env: mode 0644, was 0600" in result.reason


def test_tampered_archive_or_manifest_is_caught(backup: FilesBackup) -> None:
    with backup.archive.open("ab") as archive:
        archive.write(b"\x00")
    assert (
        "differs from the manifest's" in archive_intact(backup.manifest_file, backup.archive).reason
    )
    backup.manifest_file.write_text(backup.manifest_file.read_text().replace("0600", "0644"))
    with pytest.raises(BackupError, match="the manifest changed"):
        load_manifest(backup.manifest_file)
