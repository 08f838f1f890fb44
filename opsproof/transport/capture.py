"""A subprocess's output read up to a bound: a chatty remote command cannot fill memory."""

import os
import threading
from dataclasses import dataclass, field
from typing import IO

CHUNK = 64 << 10


@dataclass
class BoundedReader:
    """Drains ``stream`` on a thread, keeping the first ``limit`` bytes and counting the rest,
    so the writer never blocks on a full pipe."""

    stream: IO[bytes]
    limit: int
    kept: bytearray = field(default_factory=bytearray)
    total: int = 0
    _thread: threading.Thread | None = None

    def start(self) -> "BoundedReader":
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()
        return self

    def _drain(self) -> None:
        while chunk := os.read(self.stream.fileno(), CHUNK):
            self.total += len(chunk)
            room = self.limit - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def finish(self, timeout: float) -> bytes:
        """The kept bytes, once the stream ended (or ``timeout`` passed)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return bytes(self.kept)

    @property
    def truncated(self) -> bool:
        return self.total > self.limit
