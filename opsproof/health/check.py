"""The gate's runtime health item for one service: read (with the reader its runtime needs),
judge against the budget and the baseline, and record the reading for the next run. It only
observes: nothing here restarts, signals or changes the service."""

import time
from pathlib import Path

from opsproof.health.baseline import Baselines, Record
from opsproof.health.docker_reader import read_container_health
from opsproof.health.judge import judge
from opsproof.health.own_faults import OwnFaults, own_faults_since
from opsproof.health.policy import HealthPolicy
from opsproof.health.process_reader import read_process_health
from opsproof.health.reading import HealthReading
from opsproof.health.remote_process_reader import read_remote_process_health
from opsproof.health.systemd_reader import read_unit_health
from opsproof.probes.result import Observation
from opsproof.probes.timing import timed
from opsproof.runtimes.base import Runtime
from opsproof.runtimes.docker import DockerRuntime
from opsproof.runtimes.process import ProcessRuntime
from opsproof.runtimes.remote_process import RemoteProcessRuntime
from opsproof.runtimes.systemd import SystemdRuntime


def read_health(runtime: Runtime, cpu_window: float | None) -> HealthReading:
    """One reading through whichever runtime the service declares."""
    if isinstance(runtime, DockerRuntime):
        return read_container_health(runtime, cpu_window)
    if isinstance(runtime, SystemdRuntime):
        return read_unit_health(runtime, cpu_window)
    if isinstance(runtime, RemoteProcessRuntime):
        return read_remote_process_health(runtime, cpu_window)
    assert isinstance(runtime, ProcessRuntime)
    return read_process_health(runtime, cpu_window)


class RuntimeHealthCheck:
    """Judges every attempt against the baseline as it was when the item began; the last
    reading becomes the next run's baseline (:meth:`record`), passed or failed. ``ledger_dir``:
    the state directory whose fault ledger tells opsproof's own faults since the baseline."""

    def __init__(
        self,
        runtime: Runtime,
        policy: HealthPolicy,
        baselines: Baselines,
        ledger_dir: Path | None = None,
    ) -> None:
        self.runtime = runtime
        self.policy = policy
        self.baselines = baselines
        self.baseline = baselines.baseline(policy.since, time.time())
        self.own = (
            own_faults_since(ledger_dir, runtime.id, self.baseline.at)
            if ledger_dir is not None and self.baseline is not None
            else OwnFaults()
        )
        self.last: HealthReading | None = None

    @timed
    def observe(self) -> Observation:
        self.last = read_health(self.runtime, self.policy.cpu_window)
        return judge(self.last, self.policy, self.baseline, self.own)

    def record(self) -> None:
        """Keep the last reading when it says who is running (a service never seen running
        leaves the baseline as it was)."""
        last = self.last
        if last is not None and last.identity:
            self.baselines.add(
                Record(time.time(), last.identity, last.restarts, last.counter_epoch)
            )
