"""Redis probes: reachability, replication role, memory headroom, eviction policy, and the
length of keys used as queues (a backlog bound).

Everything is read from PING and INFO, which managed Redis offerings keep even where they
disable CONFIG.
"""

import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from opsproof.config.models import QueueSpec, RedisService
from opsproof.errors import Unanswered
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.failures import describe_error
from opsproof.support.redact import redact_url


def _target(service: RedisService) -> str:
    return redact_url(service.url, keep_query=False)


def _client(service: RedisService) -> redis.Redis:
    # No retries: one call, one deadline; a retried timeout would double the wait.
    return redis.Redis.from_url(
        service.url,
        socket_timeout=service.timeout,
        socket_connect_timeout=service.timeout,
        retry=Retry(NoBackoff(), 0),
        decode_responses=True,
    )


def _info(service: RedisService, section: str) -> dict[str, object]:
    client = _client(service)
    try:
        info: dict[str, object] = client.info(section)
    except (redis.RedisError, OSError) as exc:
        why = describe_error(exc, service.timeout)
        raise Unanswered(f"{_target(service)}: INFO {section} failed: {why}") from exc
    finally:
        client.close()
    return info


@timed
def ping(service: RedisService) -> Observation:
    """PING answers within the service timeout."""
    target = _target(service)
    client = _client(service)
    start = time.monotonic()
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        reason = f"{target}: PING failed: {describe_error(exc, service.timeout)}"
        return Observation(False, target, reason)
    finally:
        client.close()
    latency_ms = round((time.monotonic() - start) * 1000, 1)
    figures = {"latency_ms": Figure(latency_ms, "ms")}
    return Observation(True, target, f"{target}: PONG in {latency_ms:g} ms", figures)


@timed
def role(service: RedisService) -> Observation:
    """The replication role is ``expect_role``; with none expected there is nothing to judge:
    not applicable, the role only reported."""
    target = _target(service)
    try:
        info = _info(service, "replication")
    except Unanswered as exc:
        return Observation(False, target, str(exc))
    actual = str(info.get("role", "unknown"))
    expected = service.expect_role
    figures = {"role": Figure(actual, target=None if expected is None else f"== {expected}")}
    if expected is None:
        reason = f"{target}: role is {actual}; declare expect_role to judge it"
        return Observation(False, target, reason, figures, applicable=False)
    if actual != expected:
        upstream = (
            f" of {info['master_host']}:{info['master_port']}" if "master_host" in info else ""
        )
        reason = f"{target}: expected role {expected}, got {actual}{upstream}"
        return Observation(False, target, reason, figures)
    return Observation(True, target, f"{target}: role is {actual}", figures)


@timed
def memory(service: RedisService) -> Observation:
    """used_memory / maxmemory stays at or below ``max_memory_ratio``.

    With no maxmemory there is nothing to compare with: not applicable, whatever else the
    environment declares (an expected eviction policy that can never act is the eviction
    check's finding), so the same Redis gets the same verdict everywhere.
    """
    target = _target(service)
    try:
        info = _info(service, "memory")
    except Unanswered as exc:
        return Observation(False, target, str(exc))
    used, limit = info.get("used_memory"), info.get("maxmemory", 0)
    if not isinstance(used, int) or not isinstance(limit, int):
        reason = f"{target}: INFO memory reports no used_memory or maxmemory (a proxy?)"
        return Observation(False, target, reason)
    figures = {"used_memory": Figure(used, "bytes")}
    if limit == 0:
        figures["maxmemory"] = Figure("unlimited")
        reason = (
            f"{target}: maxmemory is not set, so {used} bytes used has no limit to be judged "
            "against (set maxmemory to make this check apply)"
        )
        return Observation(False, target, reason, figures, applicable=False)
    ratio = used / limit
    figures["maxmemory"] = Figure(limit, "bytes")
    figures["memory_ratio"] = Figure(round(ratio, 3), target=f"<= {service.max_memory_ratio:g}")
    reason = f"{target}: using {used} of {limit} bytes ({ratio:.1%})"
    if ratio > service.max_memory_ratio:
        limit_text = f"{service.max_memory_ratio:.0%}"
        return Observation(False, target, f"{reason}, above the {limit_text} limit", figures)
    return Observation(True, target, reason, figures)


@timed
def eviction_policy(service: RedisService) -> Observation:
    """maxmemory-policy is ``expect_eviction_policy`` and can act (maxmemory is set); with no
    policy expected there is nothing to judge: not applicable, the policy only reported."""
    target = _target(service)
    try:
        info = _info(service, "memory")
    except Unanswered as exc:
        return Observation(False, target, str(exc))
    actual = str(info.get("maxmemory_policy", "unknown"))
    expected = service.expect_eviction_policy
    figures = {
        "eviction_policy": Figure(actual, target=None if expected is None else f"== {expected}")
    }
    if expected is None:
        reason = (
            f"{target}: eviction policy is {actual}; declare expect_eviction_policy to judge it"
        )
        return Observation(False, target, reason, figures, applicable=False)
    if actual != expected:
        reason = f"{target}: expected eviction policy {expected}, got {actual}"
        return Observation(False, target, reason, figures)
    if info.get("maxmemory", 0) == 0:
        reason = (
            f"{target}: eviction policy is {actual} but maxmemory is not set, so it never acts "
            "and an unbounded cache can exhaust host memory: set maxmemory"
        )
        return Observation(False, target, reason, figures)
    return Observation(True, target, f"{target}: eviction policy is {actual}", figures)


_LENGTH = {"list": "LLEN", "stream": "XLEN", "zset": "ZCARD", "set": "SCARD"}


@timed
def queue_length(service: RedisService, queue: QueueSpec) -> Observation:
    """The queue's length within ``min``..``max``: read with TYPE then its length command
    (read-only). A missing key is an empty queue, said so, unless it ``must_exist``; a key of
    another type fails naming that type."""
    target = f"{_target(service)} {queue.key}"
    client = _client(service)
    command = _LENGTH[queue.type]
    try:
        actual = str(client.type(queue.key))
        length = _length(client, queue) if actual == queue.type else 0
    except (redis.RedisError, OSError) as exc:
        reason = f"{target}: TYPE/{command} failed: {describe_error(exc, service.timeout)}"
        return Observation(False, target, reason)
    finally:
        client.close()
    figures = {"length": Figure(length, target=f"in {_bound(queue)}"), "type": Figure(actual)}
    if actual == "none":
        if queue.must_exist:
            reason = f"{target}: no such key (must_exist: true); no worker or producer made it"
            return Observation(False, target, reason, figures)
        missing = "missing, counted as an empty queue (set must_exist: true to fail on it)"
        return _judge_length(target, queue, 0, figures, missing)
    if actual != queue.type:
        reason = (
            f"{target}: is a {actual}, not a {queue.type}; fix type: in its queues entry, "
            "or the key name"
        )
        return Observation(False, target, reason, figures)
    return _judge_length(target, queue, length, figures, f"{queue.type} of length {length}")


def _length(client: redis.Redis, queue: QueueSpec) -> int:
    if queue.type == "list":
        return int(client.llen(queue.key))
    if queue.type == "stream":
        return int(client.xlen(queue.key))
    if queue.type == "zset":
        return int(client.zcard(queue.key))
    return int(client.scard(queue.key))


def _judge_length(
    target: str, queue: QueueSpec, length: int, figures: dict[str, Figure], said: str
) -> Observation:
    if queue.max is not None and length > queue.max:
        reason = f"{target}: {said}, above its max of {queue.max}: a backlog"
        return Observation(False, target, reason, figures)
    if length < queue.min:
        reason = f"{target}: {said}, below its min of {queue.min}"
        return Observation(False, target, reason, figures)
    return Observation(True, target, f"{target}: {said}, within {_bound(queue)}", figures)


def _bound(queue: QueueSpec) -> str:
    return f"{queue.min}..{'' if queue.max is None else queue.max}"
