"""Signals during a fault: SIGINT and SIGTERM interrupt, and neither interrupts a revert."""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

INTERRUPTS = (signal.SIGINT, signal.SIGTERM)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextmanager
def interrupts() -> Iterator[None]:
    """SIGINT and SIGTERM raise KeyboardInterrupt for the block, so the same ``finally``
    blocks run for either, whatever this process inherited.

    Python turns SIGINT into KeyboardInterrupt only when its parent left SIGINT at its
    default: a background job of a non-interactive shell (``run &`` in a CI script) inherits it
    ignored, and so does everything that job starts, so a run started that way ignored
    ``kill -INT`` — it kept its fault in place until the experiment's end, past any deadline a
    caller gave it to stop.
    """
    if not _main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _interrupt) for sig in INTERRUPTS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block (a revert) is done, then act on them."""
    if not _main_thread():
        yield
        return
    received: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda signum, frame: received.append(signum)) for sig in INTERRUPTS
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt(f"signal {signal.Signals(received[0]).name} during a revert")
