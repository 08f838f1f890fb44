"""Free TCP ports on 127.0.0.1."""

import socket
from contextlib import ExitStack

LOOPBACK = "127.0.0.1"
"""Where every server opsproof starts listens: nothing it runs is reachable from outside."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free a moment ago (all held open together while
    choosing, so they differ; another program may still take one before it is bound)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind((LOOPBACK, 0))
            ports.append(sock.getsockname()[1])
        return ports
