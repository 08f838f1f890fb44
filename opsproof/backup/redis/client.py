"""Connections to a Redis server for backup work: one deadline per call, no silent retries."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from opsproof.support.redact import redact_url


@dataclass(frozen=True)
class Endpoint:
    """A Redis server by URL; ``client(db)`` talks to one of its databases."""

    url: str
    timeout: float

    @property
    def target(self) -> str:
        """Readable id without the password: ``redis://127.0.0.1:6390/0``."""
        return redact_url(self.url, keep_query=False)

    def client(self, db: int = 0) -> redis.Redis:
        # The database is the URL's path; redis-py lets the URL win over a db= argument.
        parts = urlsplit(self.url)
        url = urlunsplit(parts._replace(path=f"/{db}"))
        return redis.Redis.from_url(
            url,
            socket_timeout=self.timeout,
            socket_connect_timeout=self.timeout,
            retry=Retry(NoBackoff(), 0),
        )


def keyspace(client: redis.Redis) -> dict[int, tuple[int, int]]:
    """Keys and keys-with-expiry per non-empty database, from INFO keyspace (which counts keys
    whose TTL has passed but that the server still holds)."""
    info = client.info("keyspace")
    return {
        int(name.removeprefix("db")): (int(stats["keys"]), int(stats["expires"]))
        for name, stats in info.items()
        if name.startswith("db")
    }


def server_time_ms(client: redis.Redis) -> int:
    """The server's clock: expiry times are absolute on it, not on ours."""
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def command(client: "redis.Redis | redis.client.Pipeline", *args: bytes | str | int) -> Any:
    """A command redis-py has no typed method for (DEBUG), or types too narrowly (bytes keys)."""
    return client.execute_command(*args)  # type: ignore[no-untyped-call]


def debug_allowed(client: redis.Redis) -> bool:
    """Whether DEBUG answers (``enable-debug-command`` is yes, or local and we are local)."""
    try:
        command(client, "DEBUG", "HELP")
    except redis.ResponseError:
        return False
    return True
