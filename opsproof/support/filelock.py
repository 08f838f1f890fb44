"""An exclusive lock on a file, waited for up to a bound: the kernel releases it if the holder
dies, so a crashed run never leaves a stale lock behind (unlike a lock file that exists)."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opsproof.support.waiting import poll_until


@contextmanager
def exclusive(path: Path, timeout: float, busy: Exception | None = None) -> Iterator[None]:
    """Hold ``path`` locked; if another process holds it past ``timeout``, raise ``busy``
    (TimeoutError by default). Errors raised while the lock is held pass through as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        if not lock_within(handle.fileno(), timeout):
            raise busy or TimeoutError(f"{path}: lock held for {timeout:g} s")
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_within(fd: int, timeout: float) -> bool:
    """Lock the open file ``fd`` exclusively, waiting up to ``timeout`` for its holder; False
    if it still holds it then. The lock lasts until ``fd`` is unlocked or closed."""

    def locked() -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    return poll_until(locked, timeout)
