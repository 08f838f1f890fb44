"""Queue bounds on the reference stack's Redis: a backlog above max fails naming the key, its
length and the bound; a missing key is an empty queue (said so) unless it must exist; a key of
another type fails naming the type."""

import uuid
from collections.abc import Iterator

import pytest
import redis as redis_py

from opsproof.config.models import QueueSpec, RedisService
from opsproof.probes.redis import queue_length
from opsproof.runtimes.launched import StackState

pytestmark = pytest.mark.stack


@pytest.fixture
def service(reference_stack: StackState) -> RedisService:
    return RedisService(kind="redis", url=reference_stack.values["redis.url"])


@pytest.fixture
def key(service: RedisService) -> Iterator[str]:
    """A key of this test's own, deleted afterwards."""
    name = f"opsproof-test:{uuid.uuid4().hex[:8]}"
    yield name
    client = redis_py.Redis.from_url(service.url)
    client.delete(name)
    client.close()


def _client(service: RedisService) -> redis_py.Redis:
    return redis_py.Redis.from_url(service.url)


def test_a_backlog_above_max_fails_naming_key_length_and_bound(
    service: RedisService, key: str
) -> None:
    _client(service).rpush(key, *range(5))
    seen = queue_length(service, QueueSpec(key=key, max=3))
    assert not seen.ok
    assert seen.reason.endswith(f"{key}: list of length 5, above its max of 3: a backlog")
    assert seen.figures["length"].value == 5
    assert queue_length(service, QueueSpec(key=key, max=5)).ok
    below = queue_length(service, QueueSpec(key=key, min=6))
    assert "list of length 5, below its min of 6" in below.reason


def test_a_missing_key_is_an_empty_queue_unless_it_must_exist(
    service: RedisService, key: str
) -> None:
    empty = queue_length(service, QueueSpec(key=key, max=3))
    assert empty.ok
    assert "missing, counted as an empty queue (set must_exist: true" in empty.reason
    required = queue_length(service, QueueSpec(key=key, max=3, must_exist=True))
    assert not required.ok
    assert "no such key (must_exist: true)" in required.reason


def test_a_key_of_another_type_fails_naming_its_type(service: RedisService, key: str) -> None:
    _client(service).hset(key, "field", "value")
    seen = queue_length(service, QueueSpec(key=key, max=3))
    assert not seen.ok
    assert f"{key}: is a hash, not a list" in seen.reason


def test_streams_and_sorted_sets_are_measured_by_their_own_length(
    service: RedisService, key: str
) -> None:
    client = _client(service)
    for n in range(4):
        client.xadd(key, {"n": n})
    assert queue_length(service, QueueSpec(key=key, type="stream", max=4)).ok
    assert (
        "stream of length 4, above its max of 3"
        in queue_length(service, QueueSpec(key=key, type="stream", max=3)).reason
    )


def test_an_unreachable_redis_fails_the_queue_check_with_the_reason() -> None:
    closed = RedisService(kind="redis", url="redis://127.0.0.1:1/0", timeout=1)
    seen = queue_length(closed, QueueSpec(key="jobs", max=1))
    assert not seen.ok
    assert "TYPE/LLEN failed" in seen.reason
