"""Ed25519 signatures over a manifest, with keys as PEM files (the ``cryptography`` package)."""

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from opsproof.errors import SigningError

ALGORITHM = "ed25519"
_KEYGEN_HINT = "create a key pair with: opsproof report keygen KEYFILE"


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # not PEM, encrypted, or unknown
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: not an unencrypted Ed25519 private key in PEM; {_KEYGEN_HINT}")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read(path))
    except (ValueError, UnsupportedAlgorithm):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path}: not an Ed25519 public key in PEM; {_KEYGEN_HINT}")
    return key


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise SigningError(f"{path}: cannot read the key ({error.strerror})") from None


def public_key_text(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key in base64, as manifests record it."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(public_key: str) -> str:
    """A short fingerprint for people: ``sha256:`` and 16 hex digits of the raw key."""
    return "sha256:" + hashlib.sha256(base64.b64decode(public_key)).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, payload: bytes) -> str:
    return base64.b64encode(key.sign(payload)).decode()


def signature_valid(public_key: str, signature: str, payload: bytes) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), payload)
    except (InvalidSignature, ValueError):
        return False
    return True


def generate_key_pair(private_path: Path) -> Path:
    """Write a new private key (mode 0600) and its public key beside it (``.pub``)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private)
    public_path = private_path.with_name(private_path.name + ".pub")
    public_path.write_bytes(public)
    return public_path
