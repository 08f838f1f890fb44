"""Backup files as a store keeps them: dated names, a sha256 and a fingerprint beside each.

``redis-cache-20261123T010203Z.rdb`` has ``….rdb.sha256`` (``sha256sum -c`` reads it) and
``….rdb.fingerprint.json`` (what the data looked like at the snapshot). The same layout is what
the existing-backup checks look for next to a team's own files.
"""

import hashlib
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from opsproof.errors import BackupError

SHA256_SUFFIX = ".sha256"
FINGERPRINT_SUFFIX = ".fingerprint.json"
M = TypeVar("M", bound=BaseModel)


def private_store(store: Path) -> Path:
    """Create the store private (0700), or refuse one that others can read or enter: backups
    hold keys and customer data. An existing directory is never re-moded behind its owner's
    back; the error says how to fix it."""
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(store.stat().st_mode)
    if not store.is_dir():
        raise BackupError(f"backup.store {store}: not a directory")
    if mode & 0o077:
        raise BackupError(
            f"backup.store {store}: mode {mode:04o} lets other users read the backups (keys, "
            f"customer data); run `chmod 700 {store}` or choose a private directory"
        )
    return store


def dated_path(store: Path, prefix: str, when: datetime, suffix: str) -> Path:
    """``store/prefix-YYYYmmddTHHMMSSZ.suffix``; sorts by time, like runbooks' dated backups.
    The store must be private (``private_store``)."""
    return private_store(store) / f"{prefix}-{when:%Y%m%dT%H%M%SZ}{suffix}"


def sha256_file(path: Path) -> str:
    with path.open("rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()


def sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def write_checksum(path: Path, digest: str | None = None) -> str:
    """Write ``path``'s ``.sha256`` beside it (hashed now unless its ``digest`` is known); the
    hex digest."""
    digest = digest or sha256_file(path)
    _write_durably(sidecar(path, SHA256_SUFFIX), f"{digest}  {path.name}\n")
    return digest


def read_checksum(path: Path) -> str | None:
    """The digest recorded beside ``path``; None when there is no ``.sha256`` file."""
    try:
        text = sidecar(path, SHA256_SUFFIX).read_text()
    except FileNotFoundError:
        return None
    return text.split()[0].lower() if text.strip() else ""


def write_fingerprint(path: Path, fingerprint: BaseModel) -> Path:
    target = sidecar(path, FINGERPRINT_SUFFIX)
    _write_durably(target, fingerprint.model_dump_json(indent=1))
    return target


def read_fingerprint(path: Path, model: type[M]) -> M | None:
    """The fingerprint stored beside ``path``; None when there is none."""
    target = sidecar(path, FINGERPRINT_SUFFIX)
    try:
        return model.model_validate_json(target.read_bytes())
    except FileNotFoundError:
        return None
    except ValidationError as exc:
        raise BackupError(
            f"{target}: not a {model.__name__} ({exc.error_count()} errors)"
        ) from None


def _write_durably(path: Path, text: str) -> None:
    """Write then rename, fsync'd: a crash never leaves a half-written sidecar that looks valid."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
