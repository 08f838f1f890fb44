"""Runtimes: how opsproof acts on a declared service (find, kill, stop, start, pause, ...).

``runtime_for`` picks the runtime a service declares; the contract is
:class:`opsproof.runtimes.base.Runtime`.
"""

from pathlib import Path

from opsproof.config.models import Environment
from opsproof.errors import SafetyError
from opsproof.runtimes.base import Resources, Runtime
from opsproof.runtimes.process import ProcessRuntime, ProcessTarget
from opsproof.runtimes.remote_process import RemoteProcessRuntime

__all__ = [
    "ProcessRuntime",
    "ProcessTarget",
    "RemoteProcessRuntime",
    "Resources",
    "Runtime",
    "process_runtime",
    "process_target",
]


def process_runtime(target: ProcessTarget) -> ProcessRuntime | RemoteProcessRuntime:
    """The processes of ``target`` here, or over SSH on the host it declares."""
    return RemoteProcessRuntime(target) if target.host is not None else ProcessRuntime(target)


def process_target(environment: Environment, name: str, state_dir: Path) -> ProcessTarget:
    """The process runtime of service ``name``; refuses a service that declares none."""
    service = environment.services[name]
    runtime = getattr(service, "runtime", None)
    if runtime is None or runtime.process is None:
        raise SafetyError(
            f"services.{name}: no runtime declared, so opsproof cannot act on it; add "
            "runtime: {process: {component: NAME | pid_file: PATH | match: TEXT}}"
        )
    spec = runtime.process
    host = environment.hosts[spec.host] if spec.host is not None else None
    return ProcessTarget(name=name, spec=spec, state_dir=state_dir, host=host)
