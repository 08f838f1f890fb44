"""Every kind of tampering with a sealed run is detected: a modified, missing or added file, an
edited or re-signed manifest, a deleted or rewritten earlier run, a renamed run."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opsproof.errors import UnverifiableError
from opsproof.evidence.integrity import verify_run
from opsproof.evidence.manifest import MANIFEST_NAME, read_manifest, write_manifest
from opsproof.evidence.rundir import create_run_dir

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
Seal = Callable[..., Path]


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def seal(tmp_path: Path, key: Ed25519PrivateKey) -> Seal:
    """``seal(hours=0, kind="gate", signed=True)``: a new sealed run in tmp_path/runs."""

    def make(hours: int = 0, kind: str = "gate", signed: bool = True) -> Path:
        run_dir = create_run_dir(tmp_path / "runs", kind, "staging", START + timedelta(hours=hours))
        (run_dir / "evidence.json").write_text('{"checks": []}\n')
        (run_dir / "allure-results").mkdir()
        (run_dir / "allure-results" / "a-result.json").write_text("{}")
        write_manifest(run_dir, kind, "staging", key if signed else None)
        return run_dir

    return make


def _problems(run_dir: Path, **options: object) -> list[tuple[str, str]]:
    return [(f.kind, f.message) for f in verify_run(run_dir, **options).findings]


def test_an_untouched_signed_chain_verifies(seal: Seal, key: Ed25519PrivateKey) -> None:
    first, second = seal(), seal(1)
    assert read_manifest(first).previous is None
    link = read_manifest(second).previous
    assert link is not None and link.run == first.name
    for run_dir in (first, second):
        result = verify_run(run_dir, key.public_key())
        assert result.ok and result.signed_by and result.signed_by.startswith("sha256:")


def test_modified_missing_and_added_files_are_named(seal: Seal) -> None:
    run_dir = seal()
    (run_dir / "evidence.json").write_text('{"checks": ["forged"]}\n')
    (run_dir / "allure-results" / "a-result.json").unlink()
    (run_dir / "allure-results" / "planted.json").write_text("{}")
    assert sorted(_problems(run_dir)) == [
        ("files", "added: allure-results/planted.json"),
        ("files", "missing: allure-results/a-result.json"),
        ("files", "modified: evidence.json"),
    ]


def test_a_manifest_edited_to_match_forged_files_breaks_the_signature(seal: Seal) -> None:
    run_dir = seal()
    (run_dir / "evidence.json").write_text("forged\n")
    manifest = json.loads((run_dir / MANIFEST_NAME).read_text())
    manifest["files"]["evidence.json"] = {
        "sha256": "2b8a5e4e0f1e0d0a3f1f6a4a8a8d1c2e0a7e3b3c5f1a9e6d4b2c8f0a1e3d5c7b",
        "size": 7,
    }
    (run_dir / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert ("signature", "bad signature: the manifest changed after signing") in _problems(run_dir)


def test_a_run_resealed_with_another_key_fails_against_the_pinned_key(
    seal: Seal, key: Ed25519PrivateKey
) -> None:
    run_dir = seal()
    write_manifest(run_dir, "gate", "staging", Ed25519PrivateKey.generate())  # the forger's key
    assert verify_run(run_dir).ok  # self-consistent: only a pinned key tells who signed
    [(kind, message)] = _problems(run_dir, public_key=key.public_key())
    assert kind == "signature" and message.startswith("signed by key sha256:")


def test_an_unsigned_manifest_fails_only_when_a_signature_is_required(seal: Seal) -> None:
    run_dir = seal(signed=False)
    assert _problems(run_dir) == []
    assert _problems(run_dir, require_signature=True) == [
        ("signature", "the manifest is not signed")
    ]


def test_a_deleted_earlier_run_breaks_the_chain(seal: Seal) -> None:
    first, second = seal(), seal(1)
    for path in sorted(first.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    first.rmdir()
    assert _problems(second) == [("chain", f"previous run {first.name} is missing")]


def test_a_rewritten_earlier_run_breaks_the_chain_of_the_next(seal: Seal) -> None:
    first, second = seal(), seal(1)
    (first / "evidence.json").write_text("forged\n")
    write_manifest(first, "gate", "staging", None)  # resealed (unsigned) to hide the change
    assert _problems(first) == []
    assert _problems(second) == [
        ("chain", f"previous run {first.name} was changed after this run sealed")
    ]


def test_a_manifest_that_forgets_its_predecessor_is_caught(seal: Seal) -> None:
    first, second = seal(), seal(1)
    manifest = json.loads((second / MANIFEST_NAME).read_text())
    manifest["previous"] = None
    (second / MANIFEST_NAME).write_text(json.dumps(manifest))
    problems = _problems(second)
    assert ("chain", f"names no previous run, but {first.name} precedes it") in problems
    assert ("signature", "bad signature: the manifest changed after signing") in problems


def test_chains_are_per_kind_and_environment(seal: Seal) -> None:
    gate = seal()
    chaos = seal(1, kind="chaos")
    assert read_manifest(chaos).previous is None
    assert read_manifest(seal(2)).previous.run == gate.name


def test_a_renamed_run_is_caught(seal: Seal) -> None:
    run_dir = seal()
    moved = run_dir.rename(run_dir.with_name("20261123T050000Z-gate-staging"))
    assert _problems(moved) == [
        ("chain", f"the manifest belongs to run {run_dir.name}, not {moved.name}")
    ]


def test_no_manifest_cannot_be_verified(tmp_path: Path) -> None:
    with pytest.raises(UnverifiableError, match=r"no manifest\.json"):
        verify_run(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(UnverifiableError, match="unreadable"):
        verify_run(tmp_path)
