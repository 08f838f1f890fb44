"""One print per key: what it holds and when it expires, by either fingerprint method.

``content-sha256`` reads each value with the command for its type and hashes a canonical form
(sets and hashes sorted, so SCAN and encoding order do not matter): written by hand because no
library hashes a live Redis dataset. ``debug-digest`` asks the server (DEBUG DIGEST-VALUE),
which reads values without sending them, but only marks *that* a key expires: the absolute
expiry (PEXPIRETIME) is kept beside it in both methods.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Literal

import redis
from pydantic import BaseModel, ConfigDict

from opsproof.backup.redis.client import command

Method = Literal["debug-digest", "content-sha256"]
SCAN_BATCH = 1000
ABSENT_DIGEST = "0" * 40
"""DEBUG DIGEST-VALUE's answer for a key that does not exist."""


class KeyPrint(BaseModel):
    """One key as it was: its database, name, digest and absolute expiry (unix ms)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    db: int
    key: bytes
    digest: str
    expire_at_ms: int | None = None

    @property
    def name(self) -> str:
        return key_name(self.db, self.key)


def key_name(db: int, key: bytes) -> str:
    """A key for people: ``db0:jobs:queue``."""
    return f"db{db}:{key.decode(errors='backslashreplace')}"


_READERS: dict[bytes, Callable[[redis.client.Pipeline, bytes], object]] = {
    b"string": lambda pipe, key: pipe.get(key),
    b"list": lambda pipe, key: pipe.lrange(key, 0, -1),
    b"set": lambda pipe, key: pipe.smembers(key),
    b"hash": lambda pipe, key: pipe.hgetall(key),
    b"zset": lambda pipe, key: pipe.zrange(key, 0, -1, withscores=True),
    b"stream": lambda pipe, key: pipe.xrange(key),
}


def _parts(kind: bytes, value: Any) -> Iterator[bytes]:
    """The canonical byte parts of a value read with ``_READERS`` (or DUMP for other types)."""
    if isinstance(value, bytes):
        yield value
    elif kind == b"list":
        yield from value  # LRANGE keeps the list's order, which is content
    elif kind == b"set":
        yield from sorted(value)
    elif kind == b"hash":
        for field, item in sorted(value.items()):
            yield from (field, item)
    elif kind == b"zset":
        for member, score in value:  # ordered by score, then member
            yield from (member, repr(float(score)).encode())
    elif kind == b"stream":
        for entry_id, fields in value:
            yield entry_id
            for field, item in fields.items():
                yield from (field, item)


def _hash(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        # length-prefixed, so ("ab", "c") and ("a", "bc") hash differently
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _expiry(value: object) -> int | None:
    """PEXPIRETIME: -1 no expiry, -2 no such key."""
    return value if isinstance(value, int) and value >= 0 else None


def content_prints(client: redis.Redis, db: int, keys: Sequence[bytes]) -> list[KeyPrint | None]:
    """A print per key in ``keys`` (None for a key that does not exist or cannot be read)."""
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
        command(pipe, "PEXPIRETIME", key)
    meta = pipe.execute()
    kinds: list[bytes] = meta[0::2]
    expiries = meta[1::2]
    for key, kind in zip(keys, kinds, strict=True):
        reader = _READERS.get(kind)
        if reader is not None:
            reader(pipe, key)
        elif kind != b"none":
            pipe.dump(key)  # module types: their serialisation is their content
    values = iter(pipe.execute())
    prints: list[KeyPrint | None] = []
    for key, kind, expiry in zip(keys, kinds, expiries, strict=True):
        if kind == b"none":
            prints.append(None)
            continue
        expire_at = _expiry(expiry)
        head = (str(db).encode(), key, kind, str(expire_at).encode())
        digest = _hash((*head, *_parts(kind, next(values))))
        prints.append(KeyPrint(db=db, key=key, digest=digest, expire_at_ms=expire_at))
    return prints


def debug_prints(client: redis.Redis, db: int, keys: Sequence[bytes]) -> list[KeyPrint | None]:
    """A print per key from DEBUG DIGEST-VALUE: reads keys a replica hides once their TTL passed."""
    if not keys:
        return []
    pipe = client.pipeline(transaction=False)
    command(pipe, "DEBUG", "DIGEST-VALUE", *keys)
    for key in keys:
        command(pipe, "PEXPIRETIME", key)
    digests, *expiries = pipe.execute()
    prints: list[KeyPrint | None] = []
    for key, raw, expiry in zip(keys, digests, expiries, strict=True):
        digest = raw.decode() if isinstance(raw, bytes) else str(raw)
        present = digest != ABSENT_DIGEST
        print_ = KeyPrint(db=db, key=key, digest=digest, expire_at_ms=_expiry(expiry))
        prints.append(print_ if present else None)
    return prints


def prints_for(
    method: Method, client: redis.Redis, db: int, keys: Sequence[bytes]
) -> list[KeyPrint | None]:
    reader = debug_prints if method == "debug-digest" else content_prints
    return reader(client, db, keys)


def scanned(client: redis.Redis) -> Iterator[list[bytes]]:
    """The keys a client can see, in batches (SCAN hides keys whose TTL has passed)."""
    batch: list[bytes] = []
    for key in client.scan_iter(count=SCAN_BATCH):
        batch.append(key)
        if len(batch) >= SCAN_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
