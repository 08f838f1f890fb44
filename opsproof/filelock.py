"""An exclusive lock on a file, waited for up to a bound: the kernel releases it if the holder
dies, so a crashed run never leaves a stale lock behind (unlike a lock file that exists)."""

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_S = 0.05


@contextmanager
def exclusive(path: Path, timeout: float, busy: Exception | None = None) -> Iterator[None]:
    """Hold ``path`` locked; if another process holds it past ``timeout``, raise ``busy``
    (TimeoutError by default). Errors raised while the lock is held pass through as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise (busy or TimeoutError(f"{path}: lock held for {timeout:g} s")) from None
                time.sleep(POLL_S)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
