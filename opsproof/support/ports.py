"""Free TCP ports on 127.0.0.1."""

import errno
import random
import socket
from contextlib import ExitStack
from pathlib import Path

LOOPBACK = "127.0.0.1"
"""Where every server opsproof starts listens: nothing it runs is reachable from outside."""

SPARE_FLOOR = 20000
"""Ports are chosen from here up, clear of the well-known and registered services below."""
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
ATTEMPTS_PER_PORT = 50


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free a moment ago (all held open together while
    choosing, so they differ).

    A port is chosen outside the kernel's ephemeral range. Every outgoing connection and every
    bind to port 0 takes its port from that range, so a port from it (what binding port 0
    gives) can be taken by any of them in the moment between choosing it and the server
    binding it. Outside it only a program binding that very port can. Binding port 0 remains
    the fallback when no port outside the range is free."""
    low, high = _ephemeral_range()
    with ExitStack() as stack:
        ports: list[int] = []
        for _ in range(ATTEMPTS_PER_PORT * count):
            if len(ports) == count:
                break
            port = random.randrange(SPARE_FLOOR, 65536)
            if low <= port <= high:
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
        return ports


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default
    return low, high
