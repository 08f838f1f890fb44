"""Check a sealed run directory: files against the manifest, the signature, the chain, and its
OSCAL documents as an auditor's tool would read them (valid OSCAL, references that resolve)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from opsproof.errors import UnverifiableError
from opsproof.evidence.manifest import (
    MANIFEST_NAME,
    Manifest,
    file_entries,
    previous_run,
    read_manifest,
    sha256_file,
)
from opsproof.evidence.oscal.write import OSCAL_DIR
from opsproof.evidence.rundir import series_name
from opsproof.evidence.signing import ALGORITHM, key_id, public_key_text, signature_valid

FindingKind = Literal["files", "signature", "chain", "oscal"]


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    message: str


@dataclass(frozen=True)
class Verification:
    run_dir: Path
    findings: list[Finding] = field(default_factory=list)
    signed_by: str | None = None
    """Key id of a valid signature."""

    @property
    def ok(self) -> bool:
        return not self.findings


def verify_run(
    run_dir: Path, public_key: Ed25519PublicKey | None = None, require_signature: bool = False
) -> Verification:
    """Raises UnverifiableError when the manifest is missing or unreadable."""
    try:
        manifest = read_manifest(run_dir)
    except FileNotFoundError:
        raise UnverifiableError(f"{run_dir}: no {MANIFEST_NAME}; not a sealed run") from None
    except (OSError, ValidationError) as error:
        raise UnverifiableError(f"{run_dir}/{MANIFEST_NAME}: unreadable ({error})") from None
    findings, signed_by = _signature(manifest, public_key, require_signature or bool(public_key))
    findings += _files(run_dir, manifest) + _chain(run_dir, manifest) + _oscal(run_dir)
    return Verification(run_dir, findings, signed_by)


def _signature(
    manifest: Manifest, public_key: Ed25519PublicKey | None, required: bool
) -> tuple[list[Finding], str | None]:
    signature = manifest.signature
    if signature is None:
        return ([Finding("signature", "the manifest is not signed")] if required else []), None
    if signature.algorithm != ALGORITHM:
        return [Finding("signature", f"unknown signature algorithm {signature.algorithm!r}")], None
    if not signature_valid(signature.public_key, signature.value, manifest.signed_payload()):
        return [Finding("signature", "bad signature: the manifest changed after signing")], None
    signer = key_id(signature.public_key)
    if public_key is not None and public_key_text(public_key) != signature.public_key:
        expected = key_id(public_key_text(public_key))
        return [Finding("signature", f"signed by key {signer}, not by {expected}")], None
    return [], signer


def _files(run_dir: Path, manifest: Manifest) -> list[Finding]:
    actual = file_entries(run_dir)
    findings = [Finding("files", f"missing: {p}") for p in manifest.files if p not in actual]
    findings += [Finding("files", f"added: {p}") for p in actual if p not in manifest.files]
    findings += [
        Finding("files", f"modified: {path}")
        for path, entry in manifest.files.items()
        if path in actual and actual[path] != entry
    ]
    return findings


def _chain(run_dir: Path, manifest: Manifest) -> list[Finding]:
    if manifest.run != run_dir.name:
        return [Finding("chain", f"the manifest belongs to run {manifest.run}, not {run_dir.name}")]
    link = manifest.previous
    if link is None:
        earlier = previous_run(run_dir, series_name(manifest.kind, manifest.environment))
        if earlier is None:
            return []
        return [Finding("chain", f"names no previous run, but {earlier.name} precedes it")]
    previous = run_dir.parent / link.run / MANIFEST_NAME
    if not previous.is_file():
        return [Finding("chain", f"previous run {link.run} is missing")]
    if sha256_file(previous) != link.manifest_sha256:
        return [Finding("chain", f"previous run {link.run} was changed after this run sealed")]
    return []


def _oscal(run_dir: Path) -> list[Finding]:
    """Runs sealed before opsproof wrote OSCAL have none; a removed ``oscal/`` is a missing
    file to the manifest."""
    directory = run_dir / OSCAL_DIR
    if not directory.is_dir():
        return []
    from opsproof.evidence.oscal.validate import validate_oscal  # imports trestle: ~1.5 s

    return [Finding("oscal", problem) for problem in validate_oscal(directory)]
