"""A queue worker that does not reconnect: it pops from a Redis list and touches a heartbeat
file while connected; once its connection fails it logs and waits forever (alive, useless).

The kind of dependant ``restart_after_revert`` exists for.
Usage: python naive_worker.py REDIS_URL HEARTBEAT_FILE [MARKER]
"""

import sys
import time
from pathlib import Path

import redis


def main() -> None:
    url, heartbeat = sys.argv[1], Path(sys.argv[2])
    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        while True:
            heartbeat.touch()
            client.brpop(["naive:queue"], timeout=0.2)
    except (redis.RedisError, OSError) as exc:
        print(f"lost redis: {exc}; not reconnecting", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
