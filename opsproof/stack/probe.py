"""The reference stack's own components: is each program the stack runs still running?

The other probes see a component only through what the service's endpoints show; a dead worker or
exporter shows nowhere else, so a gate on a partly dead stack could pass without this.
"""

from pathlib import Path

from opsproof.probes.result import Observation
from opsproof.runtimes.launched import STATE_FILE
from opsproof.stack.status import recorded_status


def component_running(state_dir: Path, name: str) -> Observation:
    """``name``'s process (or container) is alive, as ``opsproof stack status`` shows it."""
    status = recorded_status(state_dir)
    found = next((c for c in status.components if c.name == name), None) if status else None
    if found is None:
        reason = f"{name}: not recorded in {state_dir / STATE_FILE}; start it: opsproof stack up"
        return Observation(False, name, reason)
    where = found.describe()
    if found.alive:
        return Observation(True, where, f"{where} is running")
    reason = f"{where} is not running; `opsproof stack up` replaces the stack with a new one"
    return Observation(False, where, reason)
