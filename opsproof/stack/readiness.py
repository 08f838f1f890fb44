"""Is a component ready? One check per component, and polling with a deadline.

Each check returns None when ready, else what it saw, so a timeout can say why.
"""

import json
import ssl
import time
from collections.abc import Callable

import httpx
import psycopg
import redis

from opsproof.errors import StackError
from opsproof.runtimes.launched import StackState
from opsproof.support.processes import ComponentState
from opsproof.support.waiting import poll

HEARTBEAT_KEY = "worker:heartbeat"
"""Written by the reference service's worker: ``{"pid": ..., "at": ...}`` with a short TTL."""
CHECK_TIMEOUT = 1.0

Check = Callable[[StackState, ComponentState], str | None]


def _http(url: str, verify: ssl.SSLContext | bool = False) -> str | None:
    try:
        response = httpx.get(url, timeout=CHECK_TIMEOUT, verify=verify, trust_env=False)
    except httpx.HTTPError as exc:
        return f"GET {url}: {type(exc).__name__}: {exc}"
    return None if response.status_code == 200 else f"GET {url}: HTTP {response.status_code}"


def tls_context(state: StackState) -> ssl.SSLContext:
    """Trusts only the stack's own CA: a check through nginx also verifies the chain."""
    return ssl.create_default_context(cafile=state.values["tls.ca_file"])


def _redis(state: StackState) -> "redis.Redis":
    return redis.Redis.from_url(
        state.values["redis.url"],
        socket_timeout=CHECK_TIMEOUT,
        socket_connect_timeout=CHECK_TIMEOUT,
    )


def redis_problem(state: StackState, component: ComponentState) -> str | None:
    try:
        with _redis(state) as client:
            client.ping()
    except redis.RedisError as exc:
        return f"PING: {exc}"
    return None


def postgres_problem(state: StackState, component: ComponentState) -> str | None:
    try:
        with psycopg.connect(state.values["postgres.dsn"], connect_timeout=2) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"connect: {str(exc).strip()}"
    return None


def api_problem(state: StackState, component: ComponentState) -> str | None:
    return _http(state.values["api.direct_url"] + "/health")


def nginx_problem(state: StackState, component: ComponentState) -> str | None:
    return _http(state.values["api.url"] + "/health", tls_context(state))


def worker_problem(state: StackState, component: ComponentState) -> str | None:
    """Ready once *this* worker process wrote its heartbeat (an old one may still be there)."""
    try:
        with _redis(state) as client:
            raw = client.get(HEARTBEAT_KEY)
    except redis.RedisError as exc:
        return f"heartbeat: {exc}"
    if raw is None:
        return "no heartbeat yet"
    pid = json.loads(raw).get("pid")
    return None if pid == component.pid else f"heartbeat is from pid {pid}"


CHECKS: dict[str, Check] = {
    "redis": redis_problem,
    "postgres": postgres_problem,
    "api": api_problem,
    "worker": worker_problem,
    "nginx": nginx_problem,
}


def deep_health_problem(state: StackState) -> str | None:
    """None when ``/health/deep`` through nginx answers 200."""
    return _http(state.values["api.url"] + "/health/deep", tls_context(state))


def wait_healthy(state: StackState, timeout: float) -> float:
    """Poll ``/health/deep`` through nginx until it answers 200; the seconds it took.
    Raises StackError naming the last problem seen."""
    start = time.monotonic()
    healthy, problem = poll(
        lambda: deep_health_problem(state), lambda found: found is None, timeout
    )
    if not healthy:
        raise StackError(f"stack not healthy within {timeout:g} s: {problem}")
    return time.monotonic() - start
