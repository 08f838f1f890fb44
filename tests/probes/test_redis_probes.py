"""Redis probes against real redis-server processes."""

import time
from typing import Any

import redis as redis_py

from opsproof.config.models import RedisService
from opsproof.probes.redis import eviction_policy, memory, ping, role


def svc(url: str, **fields: Any) -> RedisService:
    return RedisService.model_validate({"kind": "redis", "url": url, "timeout": 1, **fields})


def test_ping_answers_with_latency(redis_server: Any) -> None:
    seen = ping(svc(redis_server.url))

    assert seen.ok, seen.reason
    assert seen.target == redis_server.url
    assert seen.figures["latency_ms"].unit == "ms"


def test_stopped_redis_fails_ping_naming_it(start_redis: Any) -> None:
    server = start_redis()
    server.stop()

    seen = ping(svc(server.url))

    assert not seen.ok
    assert seen.reason == f"{server.url}: PING failed: connection refused"


def test_silent_server_fails_ping_after_the_timeout(hang_server: Any) -> None:
    start = time.monotonic()
    seen = ping(svc(f"redis://127.0.0.1:{hang_server.port}/0"))

    assert time.monotonic() - start < 2.5
    assert seen.reason.endswith("PING failed: no answer within 1s")


def test_password_never_reaches_the_target_or_reason(start_redis: Any) -> None:
    server = start_redis("--requirepass", "hunter2")
    with_password = server.url.replace("redis://", "redis://:hunter2@")
    wrong_password = server.url.replace("redis://", "redis://:letmein@")

    right, wrong = ping(svc(with_password)), ping(svc(wrong_password))

    assert right.ok, right.reason
    assert right.target == wrong.target == server.url
    assert not wrong.ok
    assert wrong.reason.startswith(f"{server.url}: PING failed: ")
    assert "letmein" not in wrong.reason


def test_role_matches_or_names_what_was_seen(redis_server: Any, start_redis: Any) -> None:
    replica = start_redis("--replicaof", "127.0.0.1", str(redis_server.port))

    unjudged = role(svc(redis_server.url))
    primary_role = role(svc(redis_server.url, expect_role="master"))
    replica_role = role(svc(replica.url, expect_role="slave"))
    wrong = role(svc(replica.url, expect_role="master"))

    assert not unjudged.applicable and not unjudged.ok  # nothing expected: never a pass
    assert unjudged.reason.endswith("role is master; declare expect_role to judge it")
    assert primary_role.ok, primary_role.reason
    assert replica_role.ok, replica_role.reason
    assert not wrong.ok
    assert wrong.reason == (
        f"{replica.url}: expected role master, got slave of 127.0.0.1:{redis_server.port}"
    )


def test_memory_without_limit_is_not_applicable_whatever_the_environment_declares(
    redis_server: Any,
) -> None:
    plain = memory(svc(redis_server.url))
    cache = memory(svc(redis_server.url, expect_eviction_policy="allkeys-lru"))

    for observation in (plain, cache):  # the same Redis, the same verdict
        assert not observation.applicable and not observation.ok
        assert observation.figures["maxmemory"].value == "unlimited"
        assert "maxmemory is not set" in observation.reason
    # the unbounded cache is the eviction check's finding: its policy can never act
    never_acts = eviction_policy(svc(redis_server.url, expect_eviction_policy="noeviction"))
    assert not never_acts.ok and never_acts.applicable
    assert "maxmemory is not set, so it never acts" in never_acts.reason


def test_memory_ratio_above_the_limit_fails(redis_server: Any) -> None:
    client = redis_py.Redis.from_url(redis_server.url)
    try:
        client.config_set("maxmemory", 1 << 30)
        roomy = memory(svc(redis_server.url))
        client.set("filler", b"x" * 200_000)
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", int(used / 0.95))  # a tiny limit, 95% used
        full = memory(svc(redis_server.url, max_memory_ratio=0.9))
    finally:
        client.delete("filler")
        client.config_set("maxmemory", 0)
        client.close()

    assert roomy.ok, roomy.reason
    assert not full.ok
    assert full.figures["memory_ratio"].value > 0.9  # type: ignore[operator]
    assert full.figures["memory_ratio"].target == "<= 0.9"
    assert full.reason.endswith("above the 90% limit")


def test_eviction_policy_is_compared(redis_server: Any) -> None:
    client = redis_py.Redis.from_url(redis_server.url)
    try:
        client.config_set("maxmemory", 1 << 30)
        unjudged = eviction_policy(svc(redis_server.url))
        right = eviction_policy(svc(redis_server.url, expect_eviction_policy="noeviction"))
        wrong = eviction_policy(svc(redis_server.url, expect_eviction_policy="allkeys-lru"))
    finally:
        client.config_set("maxmemory", 0)
        client.close()

    assert not unjudged.applicable and unjudged.figures["eviction_policy"].target is None
    assert right.ok, right.reason
    assert not wrong.ok
    assert wrong.reason.endswith("expected eviction policy allkeys-lru, got noeviction")
