"""Free TCP ports on 127.0.0.1."""

import errno
import os
import random
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

from opsproof.support.filelock import lock_within

LOOPBACK = "127.0.0.1"
"""Where every server opsproof starts listens: nothing it runs is reachable from outside."""

SPARE_FLOOR = 20000
"""Ports are chosen from here up, clear of the well-known and registered services below."""
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
ATTEMPTS_PER_PORT = 50
HANDED_OUT = Path(tempfile.gettempdir()) / f"opsproof-ports-{os.getuid()}"
"""Ports recently handed out by this user's opsproof processes on this machine, with when they
expire."""
RESERVED_SECONDS = 300.0
"""How long a handed-out port is not handed out again: longer than any server takes to bind
the port it was given (a PostgreSQL cluster binds its port after initdb)."""
NOTE_WAIT = 10.0
"""Bound on waiting for another process's turn at the note."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free a moment ago (all held open together while
    choosing, so they differ).

    A port is chosen outside the kernel's ephemeral range. Every outgoing connection and every
    bind to port 0 takes its port from that range, so a port from it (what binding port 0
    gives) can be taken by any of them in the moment between choosing it and the server
    binding it. Outside it only a program binding that very port can, and the user's other
    opsproof processes (parallel test workers, two runs at once) do not: each port handed out
    is noted and not handed out again for a while, since a free port can be chosen twice
    before either chooser binds it. Binding port 0 remains the fallback when no port outside
    the range is free."""
    low, high = _ephemeral_range()
    with ExitStack() as stack, _handed_out() as taken:
        ports: list[int] = []
        for _ in range(ATTEMPTS_PER_PORT * count):
            if len(ports) == count:
                break
            port = random.randrange(SPARE_FLOOR, 65536)
            if low <= port <= high or port in taken:
                continue
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                sock.bind((LOOPBACK, port))
            except OSError as error:  # taken, or held already by this call
                if error.errno not in (errno.EADDRINUSE, errno.EACCES):
                    raise
                continue
            ports.append(port)
        while len(ports) < count:
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((LOOPBACK, 0))
            ports.append(sock.getsockname()[1])
        expiry = time.time() + RESERVED_SECONDS
        taken.update(dict.fromkeys(ports, expiry))
        return ports


@contextmanager
def _handed_out() -> Iterator[dict[int, float]]:
    """The note of ports handed out on this machine (port: expiry), read and rewritten under
    an exclusive lock. It is the user's own file, opened without following a link, since the
    temporary directory is everyone's. An unusable note (an unwritable directory, someone
    else's file, a lock held too long) is an empty one: the choice is then as safe as binding
    makes it, as it was without it."""
    try:
        fd = os.open(HANDED_OUT, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        yield {}
        return
    with os.fdopen(fd, "r+", encoding="ascii", errors="replace") as note:  # closing unlocks
        if os.fstat(fd).st_uid != os.getuid() or not lock_within(fd, NOTE_WAIT):
            yield {}
            return
        ports = _still_reserved(note.read(), time.time())
        yield ports
        with suppress(OSError):
            note.seek(0)
            note.truncate()
            note.write("".join(f"{port} {expiry:.0f}\n" for port, expiry in ports.items()))
            note.flush()


def _still_reserved(note: str, now: float) -> dict[int, float]:
    ports: dict[int, float] = {}
    for line in note.splitlines():
        with suppress(ValueError):  # a damaged line notes nothing
            port, expiry = line.split()
            if float(expiry) > now:
                ports[int(port)] = float(expiry)
    return ports


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default
    return low, high
