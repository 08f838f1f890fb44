"""What a drill on a deployment will do, from its config: the stores it loses and restores,
the services it stops and starts (local processes or containers), what must answer, and the
targets."""

from dataclasses import dataclass
from pathlib import Path

from opsproof.config.flows import FlowSpec
from opsproof.config.models import BackupConfig, Environment, PostgresService, RedisService
from opsproof.errors import SafetyError
from opsproof.runtimes import ProcessRuntime, ProcessTarget, Runtime
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.workers import runtime_of

UNSET_TARGET = 0.0
"""A recovery target nobody set: judged as unmet, so a drill without targets cannot pass."""


@dataclass(frozen=True)
class StorePlan:
    """One lost store: its backup source, service, runtime and targets (seconds)."""

    source: str
    service: str
    spec: RedisService | PostgresService
    target: ProcessTarget | DockerTarget
    data_dir: Path | None
    rdb_file: Path | None
    rto: float
    rpo: float

    @property
    def kind(self) -> str:
        return "redis" if isinstance(self.spec, RedisService) else "postgres"

    @property
    def in_container(self) -> bool:
        return isinstance(self.target, DockerTarget)

    @property
    def runtime(self) -> ProcessRuntime | DockerRuntime:
        if isinstance(self.target, DockerTarget):
            return DockerRuntime(self.target)
        return ProcessRuntime(self.target)

    @property
    def data_words(self) -> str:
        """Where its data is and how it goes aside, for the dry run."""
        where = str(self.data_dir or "as the server reports it")
        if isinstance(self.target, DockerTarget):
            return (
                f"{self.source} {where} in docker://{self.target.container} (a named volume is "
                "cloned and checked before it is emptied, a bind mount's directory renamed)"
            )
        return f"{self.source} {where}"


@dataclass(frozen=True)
class DrillPlan:
    environment: str
    stores: list[StorePlan]
    stop: list[tuple[str, Runtime]]
    """Services that use the stores, in the order they are stopped."""
    ready: list[str]
    flows: list[FlowSpec]
    service_targets: tuple[float, float]

    def lines(self) -> list[str]:
        """The plan in words: what a dry run prints."""
        stops = ", ".join(name for name, _ in self.stop)
        found = [
            f"drill on {self.environment}: lose and restore "
            + ", ".join(f"{s.source} ({s.kind}, {s.target.name})" for s in self.stores),
            "data directories (moved aside): " + "; ".join(s.data_words for s in self.stores),
            "1. steady state: gate probes of "
            + (", ".join(self.ready) or "none")
            + (f"; flows {', '.join(f.name for f in self.flows)}" if self.flows else ""),
            "2. acknowledged writes start; back up each store; verify each backup on a scratch "
            "server (nothing is stopped unless they verify)",
            "3. ledger: the undo (put each data directory back, start the stores"
            + (f", start {stops})" if stops else ")"),
            f"4. stop {stops + ', then ' if stops else ''}the stores; move each data directory "
            "aside (never deleted)",
            "5. restore each store from its backup and verify it against its fingerprint",
            (f"6. start {stops} in reverse order; " if stops else "6. ")
            + "the steady state must answer again",
            "on any failure or interruption: original data put back, services started",
        ]
        return found


def _targets(env: Environment, rto: float | None, rpo: float | None) -> tuple[float, float]:
    return (rto or env.slo.rto or UNSET_TARGET, rpo or env.slo.rpo or UNSET_TARGET)


def plan_of(name: str, env: Environment, state_dir: Path) -> DrillPlan:
    """The drill ``env``'s scenario describes; SafetyError without a scenario (names and
    runtimes are checked when the config is loaded; where the data lives is asked as the
    drill starts)."""
    backup = env.backup or BackupConfig()
    scenario = backup.scenario
    if scenario is None:
        raise SafetyError(f"environment {name!r}: backup.scenario is not declared")
    stores = []
    for source_name in scenario.lost or sorted(backup.sources):
        source = backup.sources[source_name]
        spec = env.services[source.service]
        assert isinstance(spec, RedisService | PostgresService)  # checked by the config model
        runtime = spec.runtime
        assert runtime is not None  # checked by the config model
        target: ProcessTarget | DockerTarget
        if runtime.docker is not None:
            target = DockerTarget(name=source.service, container=runtime.docker.container)
        else:
            assert runtime.process is not None
            target = ProcessTarget(name=source.service, spec=runtime.process, state_dir=state_dir)
        rto, rpo = _targets(env, source.rto, source.rpo)
        stores.append(
            StorePlan(source_name, source.service, spec, target, source.data_dir,
                      source.rdb_file, rto, rpo)
        )  # fmt: skip
    stop = []
    for service in scenario.stop:
        runtime_spec = getattr(env.services[service], "runtime", None)
        assert runtime_spec is not None  # checked by the config model
        stop.append((service, runtime_of(service, runtime_spec, state_dir)))
    ready = scenario.ready
    if ready is None:
        ready = [*scenario.stop, *(s.service for s in stores)]
    flows = [flow for flow in env.flows if flow.name in scenario.flows]
    return DrillPlan(name, stores, stop, ready, flows, _targets(env, None, None))
