"""A throwaway redis-server that loads one RDB: the place a backup is restored to be compared.

Started as a replica of a port nobody listens on, because a master drops every key whose TTL
has passed while it loads an RDB, and a backup verified a day later would then look incomplete.
A replica keeps them (reads still hide them; DEBUG DIGEST sees them). AOF and saving are off:
the scratch server never writes. DEBUG is allowed for local clients only.
"""

import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import redis

from opsproof.backup.redis.client import Endpoint
from opsproof.backup.tools import redis_tool
from opsproof.errors import BackupError
from opsproof.support.ports import LOOPBACK, free_ports
from opsproof.support.processes import ComponentState, is_alive, log_tail, spawn, terminate
from opsproof.support.waiting import POLL_INTERVAL

STOP_TIMEOUT = 10.0


@dataclass(frozen=True)
class ScratchRedis:
    endpoint: Endpoint
    load_s: float
    """From start to the first answered PING, i.e. the RDB fully loaded."""


def _unreachable_port() -> socket.socket:
    """A bound socket that never listens: connecting to its port is refused, and no other
    program can take the port while we hold it (a real server there would resync our data)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((LOOPBACK, 0))
    return sock


def _wait_loaded(component: ComponentState, endpoint: Endpoint, deadline: float) -> None:
    while True:
        if not is_alive(component):
            raise BackupError(
                f"redis-server exited while loading the RDB: {log_tail(component.log_file, 5)}"
            )
        try:
            with endpoint.client() as client:
                client.ping()
            return
        except (redis.BusyLoadingError, redis.ConnectionError, redis.TimeoutError) as exc:
            if time.monotonic() >= deadline:
                raise BackupError(f"redis-server did not finish loading the RDB: {exc}") from None
        time.sleep(POLL_INTERVAL)


@contextmanager
def scratch_redis(rdb: Path, timeout: float, *, as_replica: bool = True) -> Iterator[ScratchRedis]:
    """Load ``rdb`` into a new redis-server on a free 127.0.0.1 port; stopped and removed after.

    ``as_replica=False`` starts a master instead, which drops keys whose TTL passed (only the
    negative control that proves the fingerprint notices wants that)."""
    workdir = Path(tempfile.mkdtemp(prefix="opsproof-redis-scratch-"))
    (workdir / "dump.rdb").symlink_to(rdb.resolve())  # read, never written: no copy needed
    (port,) = free_ports(1)
    holder = _unreachable_port() if as_replica else None
    command = [
        redis_tool("redis-server"),
        *("--bind", LOOPBACK, "--port", str(port), "--dir", str(workdir)),
        *("--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"),
        *("--daemonize", "no", "--enable-debug-command", "local"),
    ]
    if holder is not None:
        command += ["--replicaof", LOOPBACK, str(holder.getsockname()[1])]
    log_file = workdir / "redis.log"
    component = ComponentState("redis-scratch", 0, command, log_file=str(log_file), port=port)
    started = time.monotonic()
    with closing(holder) if holder else nullcontext():
        try:
            spawn(component)
            endpoint = Endpoint(f"redis://{LOOPBACK}:{port}/0", timeout=min(timeout, 30.0))
            _wait_loaded(component, endpoint, started + timeout)
            yield ScratchRedis(endpoint, time.monotonic() - started)
        finally:
            terminate([component], lambda _: signal.SIGTERM, STOP_TIMEOUT)
            shutil.rmtree(workdir, ignore_errors=True)
