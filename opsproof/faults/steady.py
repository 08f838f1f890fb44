"""The steady state: the gate's own probes (deep health, Redis PING, PostgreSQL connect, a
process service alive and its health command)."""

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from opsproof.config.models import (
    Environment,
    HttpService,
    PostgresService,
    ProcessService,
    RedisService,
)
from opsproof.probes import postgres, redis
from opsproof.probes.http import check_endpoint, http_client
from opsproof.probes.result import Observation
from opsproof.workers import process_probes


@dataclass(frozen=True)
class SteadyState:
    """A set of probes that all pass when the environment is healthy."""

    probes: list[Callable[[], Observation]]
    description: str

    def check(self) -> Observation:
        """One pass over every probe: ok when all are; the reason names each failure."""
        seen = [probe() for probe in self.probes]
        failed = [obs.reason for obs in seen if not obs.ok]
        if failed:
            return Observation(False, "steady state", "; ".join(failed))
        return Observation(True, "steady state", f"{len(seen)} probes passed")


def steady_state(
    environment: Environment,
    names: list[str] | None,
    stack: ExitStack,
    state_dir: Path,
) -> SteadyState:
    """Probes for the named services (default: every http, redis and postgres service);
    HTTP clients are kept open on ``stack`` so polling reuses their connections."""
    chosen = names if names is not None else list(environment.services)
    probes: list[Callable[[], Observation]] = []
    words = []
    for name in chosen:
        service = environment.services[name]
        if isinstance(service, HttpService):
            check = service.deep_health or service.health
            if check is None:
                continue
            client = stack.enter_context(http_client(service))
            probes.append(partial(check_endpoint, service, check, client))
            words.append(f"{name} GET {check.path} answers {check.expect_status}")
        elif isinstance(service, RedisService):
            probes.append(partial(redis.ping, service))
            words.append(f"{name} answers PING")
        elif isinstance(service, PostgresService):
            probes.append(partial(postgres.connect, service))
            words.append(f"{name} accepts connections")
        elif isinstance(service, ProcessService):
            probes += process_probes(name, service, state_dir, environment.hosts)
            health = " and its health command passes" if service.health else ""
            words.append(f"{name} is running{health}")
    return SteadyState(probes, ", ".join(words))
