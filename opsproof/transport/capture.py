"""A subprocess's output read up to a bound: a chatty remote command cannot fill memory (nor,
written to a file, the disk)."""

import os
import threading
from dataclasses import dataclass, field
from typing import IO, BinaryIO

CHUNK = 64 << 10


@dataclass
class BoundedReader:
    """Drains ``stream`` on a thread, keeping the first ``limit`` bytes and counting the rest,
    so the writer never blocks on a full pipe. With a ``sink`` the kept bytes are written to it
    instead of held in memory."""

    stream: IO[bytes]
    limit: int
    sink: BinaryIO | None = None
    kept: bytearray = field(default_factory=bytearray)
    taken: int = 0
    total: int = 0
    sink_error: OSError | None = None
    """Why the sink refused a write (a full disk); the stream is drained to its end anyway."""
    _thread: threading.Thread | None = None

    def start(self) -> "BoundedReader":
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()
        return self

    def _drain(self) -> None:
        while chunk := os.read(self.stream.fileno(), CHUNK):
            self.total += len(chunk)
            piece = chunk[: max(0, self.limit - self.taken)]
            if not piece:
                continue
            self.taken += len(piece)
            if self.sink is None:
                self.kept += piece
            elif self.sink_error is None:
                try:
                    self.sink.write(piece)
                except OSError as exc:
                    self.sink_error = exc

    def finish(self, timeout: float) -> bytes:
        """The kept bytes (none with a sink), once the stream ended (or ``timeout`` passed)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return bytes(self.kept)

    @property
    def truncated(self) -> bool:
        return self.total > self.limit
