"""``manifest.json``: the sha256 of every file of a run, chained to the previous run, signed.

The chain links each run to the previous run of the same kind and environment by the sha256 of
that run's manifest, so deleting or rewriting an earlier run breaks the next one. The signature
(Ed25519, when a key is configured) covers the whole manifest, including the chain link.
"""

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import AwareDatetime, ConfigDict, TypeAdapter
from pydantic.dataclasses import dataclass

from opsproof.evidence.rundir import run_dirs, series_name
from opsproof.evidence.signing import ALGORITHM, public_key_text, sign

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
_CHUNK = 1 << 20
_STRICT = ConfigDict(extra="forbid")


@dataclass(frozen=True, config=_STRICT)
class FileEntry:
    sha256: str
    size: int


@dataclass(frozen=True, config=_STRICT)
class ChainLink:
    """The previous run of the same kind and environment, by the hash of its manifest."""

    run: str
    manifest_sha256: str


@dataclass(frozen=True, config=_STRICT)
class Signature:
    algorithm: str
    public_key: str
    """The raw Ed25519 public key, base64."""
    value: str


@dataclass(frozen=True, config=_STRICT)
class Manifest:
    run: str
    kind: str
    environment: str
    created_at: AwareDatetime
    files: dict[str, FileEntry]
    """Path relative to the run directory (``/``-separated) → digest."""
    previous: ChainLink | None = None
    signature: Signature | None = None
    manifest_version: int = MANIFEST_VERSION

    def signed_payload(self) -> bytes:
        """The bytes the signature covers: the manifest without its signature, canonical JSON.

        Hand-rolled canonical form (sorted keys, no spaces): the manifest holds only strings
        and integers, for which that is unambiguous.
        """
        document = MANIFEST.dump_python(self, mode="json")
        document.pop("signature")
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


MANIFEST = TypeAdapter(Manifest)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entries(run_dir: Path) -> dict[str, FileEntry]:
    """Every file under the run directory except the manifest itself."""
    entries = {}
    for path in sorted(run_dir.rglob("*")):
        relative = path.relative_to(run_dir).as_posix()
        if relative != MANIFEST_NAME and path.is_file():
            entries[relative] = FileEntry(sha256_file(path), path.stat().st_size)
    return entries


def read_manifest(run_dir: Path) -> Manifest:
    """Raises ValueError (pydantic's ValidationError) or OSError when it cannot be read."""
    return MANIFEST.validate_json((run_dir / MANIFEST_NAME).read_bytes())


def previous_run(run_dir: Path, series: str) -> Path | None:
    """The latest earlier run of the same series that has a manifest."""
    runs = run_dirs(run_dir.parent, series)
    earlier = runs[: runs.index(run_dir)] if run_dir in runs else runs
    with_manifest = [p for p in earlier if (p / MANIFEST_NAME).is_file()]
    return with_manifest[-1] if with_manifest else None


def write_manifest(
    run_dir: Path, kind: str, environment: str, key: Ed25519PrivateKey | None
) -> Manifest:
    previous = previous_run(run_dir, series_name(kind, environment))
    link = (
        ChainLink(previous.name, sha256_file(previous / MANIFEST_NAME))
        if previous is not None
        else None
    )
    manifest = Manifest(
        run=run_dir.name,
        kind=kind,
        environment=environment,
        created_at=datetime.now(UTC),
        files=file_entries(run_dir),
        previous=link,
    )
    if key is not None:
        public = public_key_text(key.public_key())
        value = sign(key, manifest.signed_payload())
        manifest = replace(manifest, signature=Signature(ALGORITHM, public, value))
    (run_dir / MANIFEST_NAME).write_bytes(MANIFEST.dump_json(manifest, indent=2) + b"\n")
    return manifest
