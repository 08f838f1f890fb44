"""Is each container ready? The process stack's checks, plus the container's own state.

A container that exits or restarts while the stack starts fails the start at once, with the
tail of its log, instead of waiting out the deadline.
"""

import datetime as dt
import json
import time

import docker
import redis
from docker.models.containers import Container

from opsproof.errors import StackError
from opsproof.runtimes.launched import StackState
from opsproof.stack.components import START_ORDER
from opsproof.stack.readiness import CHECK_TIMEOUT, CHECKS, HEARTBEAT_KEY
from opsproof.support.waiting import POLL_INTERVAL

LOG_LINES = 20


def started_at(container: Container) -> float:
    """When the container's current run began (epoch seconds)."""
    raw = str(container.attrs["State"]["StartedAt"])
    # The engine writes nanoseconds; datetime takes microseconds.
    head, _, fraction = raw.rstrip("Z").partition(".")
    stamp = dt.datetime.fromisoformat(f"{head}.{fraction[:6] or '0'}").replace(tzinfo=dt.UTC)
    return stamp.timestamp()


def worker_problem(state: StackState, container: Container) -> str | None:
    """Ready once a heartbeat newer than the container's start is there (inside its container
    every worker is PID 1, so the process stack's PID comparison cannot tell runs apart)."""
    try:
        with redis.Redis.from_url(
            state.values["redis.url"],
            socket_timeout=CHECK_TIMEOUT,
            socket_connect_timeout=CHECK_TIMEOUT,
        ) as client:
            raw = client.get(HEARTBEAT_KEY)
    except redis.RedisError as exc:
        return f"heartbeat: {exc}"
    if raw is None:
        return "no heartbeat yet"
    beat = float(json.loads(raw).get("at", 0))
    return None if beat >= started_at(container) else "heartbeat is from an earlier run"


def log_tail(container: Container) -> str:
    text = container.logs(tail=LOG_LINES).decode(errors="replace").strip()
    return text or "(no output)"


def problem(state: StackState, name: str, container: Container) -> str | None:
    """None when ``name`` is ready; else what is wrong with it."""
    if name == "worker":
        return worker_problem(state, container)
    return CHECKS[name](state, state.components[name])


def wait_ready(
    client: docker.DockerClient, state: StackState, deadline: float, names: list[str] | None = None
) -> None:
    """Poll the named components (default: all) until their checks pass. Raises StackError
    with the container's log when one is not running or not ready by the deadline."""
    pending = list(names or START_ORDER)
    problems = dict.fromkeys(pending, "not checked yet")
    while pending:
        for name in list(pending):
            container = client.containers.get(state.values[f"{name}.container"])
            if container.status not in ("running", "created"):
                raise StackError(
                    f"{container.name}: {container.status} while starting\n"
                    f"--- last lines of docker logs {container.name} ---\n{log_tail(container)}"
                )
            found = problem(state, name, container)
            if found is None:
                pending.remove(name)
            else:
                problems[name] = found
        if pending and time.monotonic() >= deadline:
            container = client.containers.get(state.values[f"{pending[0]}.container"])
            raise StackError(
                f"{container.name}: not ready in time: {problems[pending[0]]}\n"
                f"--- last lines of docker logs {container.name} ---\n{log_tail(container)}"
            )
        if pending:
            time.sleep(POLL_INTERVAL)
