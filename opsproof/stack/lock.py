"""One launcher at a time per state directory (``opsproof stack up`` racing a test session)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opsproof.errors import StackError
from opsproof.support.filelock import exclusive

LOCK_FILE = "stack.lock"


@contextmanager
def state_lock(state_dir: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on ``state_dir`` (released by the kernel if we die)."""
    busy = StackError(
        f"{state_dir}: another opsproof process holds the stack lock for more"
        f" than {timeout:g} s; wait for it or stop it"
    )
    with exclusive(state_dir / LOCK_FILE, timeout, busy):
        yield
