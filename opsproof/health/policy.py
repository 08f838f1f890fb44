"""What a service's runtime health is judged against: its runtime's budget over the
environment's ``runtime_health`` defaults, key by key."""

from dataclasses import dataclass
from typing import Literal

from opsproof.config.models import RuntimeHealth, RuntimeSpec

DEFAULT_OPEN_FILES = 0.9
"""With nothing set: a process with 90% of its descriptors open is one burst from EMFILE."""


@dataclass(frozen=True)
class HealthPolicy:
    memory_bytes: int | None
    cpu_cores: float | None
    open_files: float
    since: Literal["previous"] | float
    cpu_window: float | None
    """Seconds CPU is sampled; None (not sampled) without a CPU budget."""


def policy_for(defaults: RuntimeHealth, runtime: RuntimeSpec) -> HealthPolicy:
    own, base = runtime.budget, defaults.budget
    memory = own.memory if own and own.memory is not None else base.memory
    cpu = own.cpu if own and own.cpu is not None else base.cpu
    files = own.open_files if own and own.open_files is not None else base.open_files
    restarts = runtime.restarts or defaults.restarts
    return HealthPolicy(
        memory_bytes=None if memory is None else int(memory),
        cpu_cores=cpu,
        open_files=DEFAULT_OPEN_FILES if files is None else files,
        since=restarts.since,
        cpu_window=defaults.cpu_window if cpu is not None else None,
    )
