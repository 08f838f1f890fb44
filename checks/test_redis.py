"""Redis: answering, in the expected role, with memory headroom and the agreed eviction policy."""

import pytest

from opsproof.config.models import RedisService
from opsproof.probes import redis
from opsproof.targets import QueueTarget, Target
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.6")


def test_redis_ping(redis_target: Target[RedisService], verify: Verifier) -> None:
    verify(lambda: redis.ping(redis_target.service))


def test_redis_role(redis_target: Target[RedisService], verify: Verifier) -> None:
    verify(lambda: redis.role(redis_target.service))


def test_redis_memory(redis_target: Target[RedisService], verify: Verifier) -> None:
    verify(lambda: redis.memory(redis_target.service))


def test_redis_eviction_policy(redis_target: Target[RedisService], verify: Verifier) -> None:
    verify(lambda: redis.eviction_policy(redis_target.service))


def test_redis_queue(redis_queue_target: QueueTarget, verify: Verifier) -> None:
    verify(lambda: redis.queue_length(redis_queue_target.service, redis_queue_target.queue))
