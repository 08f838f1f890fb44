"""The DR drill on a deployment, end to end, as one auditable record.

preconditions (where each store keeps its data — a directory here, a container's bind mount
or named volume —, room for a restore beside the original) → steady state (the gate's probes
and flows of the scenario) → acknowledged writes → back up each store → verify each backup on a
scratch server (nothing is touched unless they verify) → ledger entry with the undo →
disaster: the services that use the stores stopped, the stores stopped, their data moved aside
(renamed, or a volume cloned and checked) → each store restored and verified → services
started → steady state again. Any failure or interruption after the ledger entry puts the
original data back through the runtimes and starts everything again, and the record says
"rolled back".
"""

import os
import secrets
import time
from collections.abc import Callable
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

import psutil

from opsproof.backup.drill.checks import (
    postgres_backup_on_scratch,
    postgres_restored,
    redis_backup_on_scratch,
    redis_markers,
    redis_matches,
    results,
    writes_restored,
)
from opsproof.backup.drill.judge import DrillOutcome, judge, objective
from opsproof.backup.drill.timeline import Timeline
from opsproof.backup.drill.writes import PostgresRows, RecoveryPoint, RedisMarkers, Sink, Writer
from opsproof.backup.postgres.dump import PostgresBackup
from opsproof.backup.postgres.dump import back_up as back_up_postgres
from opsproof.backup.postgres.restore import restore_dump, restore_globals
from opsproof.backup.redis.snapshot import RedisBackup
from opsproof.backup.redis.snapshot import back_up as back_up_redis
from opsproof.backup.store import sha256_file
from opsproof.config.models import Environment, HttpService
from opsproof.drill.plan import DrillPlan, StorePlan
from opsproof.drill.postgres_store import (
    PostgresFacts,
    database_of,
    postgres_facts,
    private_server,
    set_password,
    start_postgres,
)
from opsproof.drill.redis_store import (
    RedisFacts,
    endpoint_of,
    persist,
    redis_facts,
    restore_redis,
)
from opsproof.errors import BackupError, OpsproofError, SafetyError
from opsproof.evidence.records import DrillIssue, DrillRecord, IntegrityResult, RecoveryObjective
from opsproof.faults.container_inverse import StartContainer
from opsproof.faults.data_inverse import PutBackContainerData, PutBackData
from opsproof.faults.inverse import InverseStep, StartService
from opsproof.faults.ledger import Injection, Ledger
from opsproof.faults.rollback import revert_fault
from opsproof.faults.signals import deferred_signals, interrupts
from opsproof.faults.steady import steady_state
from opsproof.journeys.flow import FlowContext, run_flow
from opsproof.probes.result import Observation
from opsproof.runtimes import ProcessRuntime, Runtime
from opsproof.runtimes.data import LocalDataDir, local_data_dir
from opsproof.runtimes.docker import DockerRuntime, DockerTarget
from opsproof.runtimes.docker_data import VolumeData, container_data_home
from opsproof.support.waiting import poll

EXPERIMENT = "dr drill"
ROLL_BACK = "roll back"
HEALTHY_AGAIN = "healthy after roll back"
WRITES_BEFORE_BACKUP = 3
WRITES_AFTER_BACKUP = 5
"""Acknowledged writes the backup will miss, so the RPO measured is a real window."""
STEADY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
START_TIMEOUT = 120.0
"""Until a service's process runs again; its readiness is then the steady state's to judge."""
ROOM_FACTOR = 1.1
"""A restore needs about as much room as the data it replaces, which stays beside it; a tenth
more for the write-ahead log and the RDB's temporary file."""


@dataclass(frozen=True)
class DrillSetting:
    """Everything a drill on a deployment needs besides its plan."""

    environment: Environment
    state_dir: Path
    store: Path
    """Where the backups go."""
    ledger: Ledger
    timeout: float
    flows: FlowContext


@dataclass
class _Store:
    plan: StorePlan
    home: LocalDataDir | VolumeData
    facts: RedisFacts | PostgresFacts
    backup: RedisBackup | PostgresBackup | None = None
    sink: RedisMarkers | PostgresRows | None = None


@dataclass
class _Findings:
    integrity: list[IntegrityResult] = field(default_factory=list)
    points: dict[str, RecoveryPoint] = field(default_factory=dict)
    failure: str = ""
    rollback: str = ""
    kept: list[str] = field(default_factory=list)
    """Where each store's original data was left, after a drill that kept its restore."""


def scenario_words(plan: DrillPlan) -> str:
    lost = ", ".join(f"{s.source} ({s.kind})" for s in plan.stores)
    return f"{plan.environment}: the data of {lost} is lost"


def _start_step(runtime: Runtime) -> InverseStep:
    if isinstance(runtime, ProcessRuntime):
        return StartService(target=runtime.target)
    assert isinstance(runtime, DockerRuntime)
    return StartContainer(target=runtime.target)


def _ready_check(
    setting: DrillSetting, plan: DrillPlan, stack: ExitStack
) -> Callable[[], Observation]:
    """The scenario's readiness: the gate's probes of its services, then its flows."""
    steady = steady_state(setting.environment, plan.ready, stack, setting.state_dir)
    http = setting.environment.services_of(HttpService)

    def check() -> Observation:
        seen = steady.check()
        if not seen.ok:
            return seen
        for flow in plan.flows:
            ran = run_flow(flow, http, setting.flows)
            if not ran.ok:
                return Observation(False, flow.name, ran.reason)
        flows = f"; flows {', '.join(f.name for f in plan.flows)} passed" if plan.flows else ""
        return Observation(True, "ready", f"{steady.description}{flows}")

    return check


def _wait_ready(check: Callable[[], Observation], timeout: float) -> str:
    ready, seen = poll(check, lambda o: o.ok, timeout)
    if not ready:
        raise BackupError(f"not ready within {timeout:g} s: {seen.reason}")
    return seen.reason


class _Drill:
    def __init__(self, setting: DrillSetting, plan: DrillPlan, timeline: Timeline) -> None:
        self.setting, self.plan, self.timeline = setting, plan, timeline
        self.found = _Findings()
        self.drill_id = secrets.token_hex(4)
        self.stores: list[_Store] = []

    @property
    def timeout(self) -> float:
        return self.setting.timeout

    def run(self) -> None:
        with ExitStack() as stack:
            ready = _ready_check(self.setting, self.plan, stack)
            writer: Writer | None = None
            try:
                self._prepare(ready)
                writer = Writer(self._sinks())
                self._back_up(writer)
            except (OpsproofError, OSError) as exc:
                self.found.failure = f"{self._current()}: {exc} (nothing was stopped or moved)"
                return
            finally:
                if writer is not None:
                    writer.stop(STOP_TIMEOUT)
            assert writer is not None
            injection = self._ledger_entry()
            try:
                with interrupts():
                    self._recover(ready, writer)
            except BaseException as exc:  # whatever stops the recovery, the data goes back
                said = (
                    str(exc) if isinstance(exc, OpsproofError) else f"{type(exc).__name__}: {exc}"
                )
                self.found.failure = f"{self._current()}: {said}"
                with suppress(OpsproofError, OSError):  # said in the rollback phase
                    self._roll_back(injection, ready)
                if not isinstance(exc, Exception):
                    raise  # an interrupt ends the run, after the data is back
            else:
                self.setting.ledger.close_fault(injection.id, "kept", [])
                self.found.kept = [s.home.aside_where for s in self.stores]

    def _current(self) -> str:
        return self.timeline.phases[-1].name if self.timeline.phases else "start"

    def _prepare(self, ready: Callable[[], Observation]) -> None:
        with self.timeline.phase(
            "preconditions", "each store's data directory, room for a restore beside it"
        ):
            for store in self.plan.stores:
                facts: RedisFacts | PostgresFacts = (
                    redis_facts(store) if store.kind == "redis" else postgres_facts(store)
                )
                home = self._data_home(store, facts.data_dir)
                _check_room(store, home)
                self.stores.append(_Store(store, home, facts))
        with self.timeline.phase("steady state", "the scenario's probes and flows answer"):
            _wait_ready(ready, STEADY_TIMEOUT)

    def _data_home(self, store: StorePlan, data_dir: Path) -> LocalDataDir | VolumeData:
        """The directory here; a container's bind mount or named volume (the data directory
        is a path inside it)."""
        if isinstance(store.runtime, DockerRuntime):
            return container_data_home(store.runtime, PurePosixPath(data_dir), self.drill_id)
        return local_data_dir(data_dir, self.drill_id)

    def _sinks(self) -> list[Sink]:
        """Each store's acknowledged writes: marker keys, or rows in the drill's own table
        (created now, so the backup holds it)."""
        sinks: list[Sink] = []
        for store in self.stores:
            if store.plan.kind == "redis":
                prefix = f"opsproof:drill:{self.drill_id}:"
                store.sink = RedisMarkers(endpoint_of(store.plan), prefix, store.plan.source)
            else:
                rows = PostgresRows(database_of(store.plan), self.drill_id, store.plan.source)
                rows.create_table()
                store.sink = rows
            sinks.append(store.sink)
        return sinks

    def _back_up(self, writer: Writer) -> None:
        started = datetime.now(UTC)
        writer.start()
        writer.wait_for_acks_after(started, WRITES_BEFORE_BACKUP, STEADY_TIMEOUT)
        last_backup = started
        for store in self.stores:
            with self.timeline.phase(f"back up {store.plan.source}"):
                store.backup = self._take_backup(store)
                last_backup = store.backup.fingerprint.taken_at
        with self.timeline.phase("verify backups on scratch servers"):
            for store in self.stores:
                checks = self._on_scratch(store)
                self.found.integrity += checks
                if not all(result.passed for result in checks):
                    raise BackupError(
                        f"the backup of {store.plan.source} does not match its fingerprint"
                    )
        writer.wait_for_acks_after(last_backup, WRITES_AFTER_BACKUP, STEADY_TIMEOUT)

    def _take_backup(self, store: _Store) -> RedisBackup | PostgresBackup:
        source = store.plan.source
        if isinstance(store.facts, RedisFacts):
            endpoint = endpoint_of(store.plan)
            return back_up_redis(endpoint, source, self.setting.store, self.timeout,
                                 _rdb_file(store))  # fmt: skip
        return back_up_postgres(database_of(store.plan), source, self.setting.store, self.timeout)

    def _on_scratch(self, store: _Store) -> list[IntegrityResult]:
        source = store.plan.source
        if isinstance(store.backup, RedisBackup):
            return redis_backup_on_scratch(store.backup, self.timeout, source)
        assert isinstance(store.backup, PostgresBackup)
        return postgres_backup_on_scratch(store.backup, self.timeout, source)

    def _ledger_entry(self) -> Injection:
        """The undo, on disk before anything is stopped: put every data directory back, start
        the stores, then the services in the order the drill would start them."""
        inverse: list[InverseStep] = [_put_back_step(s) for s in self.stores]
        inverse += [_start_step(s.plan.runtime) for s in self.stores]
        inverse += [_start_step(runtime) for _, runtime in reversed(self.plan.stop)]
        owner = psutil.Process(os.getpid())
        lifetime = self.timeout * (2 + 2 * len(self.stores))
        injection = Injection(
            id=f"drill-{self.drill_id}",
            experiment=EXPERIMENT,
            fault="move aside the data of "
            + ", ".join(f"{s.plan.source} ({s.home.where})" for s in self.stores),
            target=", ".join(s.plan.runtime.id for s in self.stores),
            inverse=inverse,
            deadline=time.time() + lifetime,
            injected_at=datetime.now(UTC),
            owner_pid=owner.pid,
            owner_started=owner.create_time(),
        )
        self.setting.ledger.append(injection)
        return injection

    def _recover(self, ready: Callable[[], Observation], writer: Writer) -> None:
        log = writer.log
        acknowledged = ", ".join(f"{len(log.of(s.plan.source))} to {s.plan.source}"
                                 for s in self.stores)  # fmt: skip
        stops = ", ".join(name for name, _ in self.plan.stop)
        note = (
            f"{stops + ' stopped, ' if stops else ''}stores stopped, data moved aside "
            f"(never deleted) after writes acknowledged: {acknowledged}"
        )
        with self.timeline.phase("disaster", note):
            for _, runtime in self.plan.stop:
                runtime.stop(STOP_TIMEOUT)
            for store in self.stores:
                if store.plan.kind == "redis":
                    persist(store.plan)
                store.plan.runtime.stop(STOP_TIMEOUT)
            for store in self.stores:
                store.home.move_aside()
        for store in self.stores:
            self._restore(store, writer)
        if self.plan.stop:
            with self.timeline.phase("start services", stops):
                for _, runtime in reversed(self.plan.stop):
                    runtime.start(min(self.timeout, START_TIMEOUT))
        with self.timeline.phase("service healthy"):
            _wait_ready(ready, self.timeout)

    def _restore(self, store: _Store, writer: Writer) -> None:
        source, backup, facts = store.plan.source, store.backup, store.facts
        acks = writer.log.of(source)
        if isinstance(facts, RedisFacts):
            assert isinstance(backup, RedisBackup) and isinstance(store.sink, RedisMarkers)
            with self.timeline.phase(f"restore {source}", "RDB copied in, server started"):
                _unchanged(backup.rdb, backup.sha256)
                endpoint = restore_redis(store.plan, facts, store.home, backup, self.timeout)
            with self.timeline.phase(f"verify {source}"):
                checks = results(source, "restore", [redis_matches(backup, endpoint, "dropped")])
                present = redis_markers(endpoint, store.sink.pattern)
                point, written = writes_restored(source, acks, present, backup.fingerprint.taken_at)
                self._judge_restore(source, point, [*checks, written])
            return
        assert isinstance(backup, PostgresBackup) and isinstance(store.sink, PostgresRows)
        with ExitStack() as private:
            with self.timeline.phase(
                f"restore {source}", "initdb, configuration, roles, pg_restore --exit-on-error"
            ):
                _unchanged(backup.dump, backup.sha256)
                server = private.enter_context(
                    private_server(store.plan, facts, store.home, self.timeout)
                )
                restore_globals(backup.globals_sql, server, self.timeout)
                set_password(store.plan, server)
                restore_dump(backup.dump, server, backup.fingerprint.database, self.timeout)
            with self.timeline.phase(f"verify {source}", "before any client can connect"):
                restored = server.with_name(backup.fingerprint.database)
                checks = postgres_restored(backup, restored, self.timeout, source)
                present = store.sink.present(restored, acks)
                point, written = writes_restored(source, acks, present, backup.fingerprint.taken_at)
                self._judge_restore(source, point, [*checks, written])
        with self.timeline.phase(f"start {source}", "through its runtime"):
            start_postgres(store.plan, self.timeout)

    def _judge_restore(
        self, source: str, point: RecoveryPoint, checks: list[IntegrityResult]
    ) -> None:
        self.found.integrity += checks
        self.found.points[source] = point
        failed = [c for c in checks if not c.passed]
        if failed:
            raise BackupError(f"restored {source} differs: {failed[0].check}: {failed[0].actual}")

    def _roll_back(self, injection: Injection, ready: Callable[[], Observation]) -> None:
        with self.timeline.phase(ROLL_BACK, "original data put back, services started"):
            with deferred_signals():
                problems = revert_fault(self.setting.ledger, injection, "run")
            if problems:
                self.found.rollback = "rolled back with problems: " + "; ".join(problems)
                raise SafetyError(self.found.rollback)
        with self.timeline.phase(HEALTHY_AGAIN, "the scenario's probes and flows answer"):
            try:
                healthy = _wait_ready(ready, STEADY_TIMEOUT)
            except BackupError as exc:
                self.found.rollback = f"rolled back: original data in place, but {exc}"
                raise
        self.found.rollback = f"rolled back: original data in place, {healthy}"


def _unchanged(backup: Path, sha256: str) -> None:
    """The bytes restored are the bytes verified on the scratch server."""
    if sha256_file(backup) != sha256:
        raise BackupError(f"{backup} changed since it was verified (sha256 differs)")


def _put_back_step(store: _Store) -> InverseStep:
    target, home = store.plan.target, store.home
    if isinstance(target, DockerTarget):
        return PutBackContainerData(target=target, home=home)
    assert isinstance(home, LocalDataDir)
    return PutBackData(target=target, home=home)


def _rdb_file(store: _Store) -> Path | None:
    """Where the backup reads the RDB BGSAVE writes: as configured; a local server's is where
    it says; a container's is its data directory's host side (bind mount, or the volume's
    mount point on this engine)."""
    facts = store.facts
    if store.plan.rdb_file is not None or not store.plan.in_container:
        return store.plan.rdb_file
    assert isinstance(facts, RedisFacts)
    if isinstance(store.home, VolumeData):
        return store.home.host_dir() / facts.dbfilename
    return store.home.path / facts.dbfilename


def _check_room(store: StorePlan, home: LocalDataDir | VolumeData) -> None:
    """The original data stays beside the restore: refuse a filesystem without room for both
    (for a volume, room for its clone where the engine keeps volumes)."""
    need, free = int(home.used_bytes() * ROOM_FACTOR), home.free_bytes()
    if free < need and isinstance(home, VolumeData):
        raise SafetyError(
            f"{store.source}: the engine's data root has {free / 2**20:.1f} MiB free, but the "
            f"clone of {home.where} needs {need / 2**20:.1f} MiB; free space there"
        )
    if free < need:
        raise SafetyError(
            f"{store.source}: {home.where} has {free / 2**20:.1f} MiB free, but a restore beside "
            f"the original data needs {need / 2**20:.1f} MiB; free space on that filesystem"
        )


def _objectives(plan: DrillPlan, timeline: Timeline, found: _Findings) -> list[RecoveryObjective]:
    first = f"restore {plan.stores[0].source}"
    made = []
    rpos: list[float | None] = []
    for store in plan.stores:
        done = f"verify {store.source}" if store.kind == "redis" else f"start {store.source}"
        point = found.points.get(store.source)
        rpo = point.rpo_s if point else None
        rpos.append(rpo)
        rto = timeline.between(first, done)
        made.append(objective(store.source, (store.rto, store.rpo), rto, rpo))
    service_rpo = None if None in rpos or not rpos else max(r or 0.0 for r in rpos)
    service_rto = timeline.between(first, "service healthy")
    made.append(objective("service", plan.service_targets, service_rto, service_rpo))
    return made


def run_deployment_drill(setting: DrillSetting, plan: DrillPlan) -> DrillOutcome:
    """Run the drill ``plan`` describes; never raises for a failed drill (an interrupt goes on
    after the rollback): the outcome says what failed and what was put back."""
    timeline = Timeline()
    drill = _Drill(setting, plan, timeline)
    drill.run()
    found = drill.found
    if found.kept:
        note = "delete it once the restore is accepted: " + ", ".join(found.kept)
        with timeline.phase("original data kept aside", note):
            pass
    objectives = _objectives(plan, timeline, found)
    issues = [
        DrillIssue(description=f"{o.system}: RTO or RPO target missed", severity="high")
        for o in objectives
        if not found.failure and not (o.rto_met() and o.rpo_met())
    ]
    failure = found.failure
    if found.rollback:
        failure = f"{failure}; {found.rollback}"
    if failure:
        issues.insert(0, DrillIssue(description=failure, severity="critical"))
    record = DrillRecord(
        scenario=scenario_words(plan),
        scope=[*(s.service for s in plan.stores), *(name for name, _ in plan.stop)],
        objectives=objectives,
        phases=timeline.phases,
        integrity=found.integrity,
        issues=issues,
    )
    return DrillOutcome(record, judge(record, failure))
