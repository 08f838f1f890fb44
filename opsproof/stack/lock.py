"""One launcher at a time per state directory (``opsproof stack up`` racing a test session)."""

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opsproof.errors import StackError
from opsproof.stack.processes import POLL_INTERVAL

LOCK_FILE = "stack.lock"


@contextmanager
def state_lock(state_dir: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on ``state_dir`` (released by the kernel if we die)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / LOCK_FILE).open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StackError(
                        f"{state_dir}: another opsproof process holds the stack lock for more"
                        f" than {timeout:g} s; wait for it or stop it"
                    ) from None
                time.sleep(POLL_INTERVAL)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
