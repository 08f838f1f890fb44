"""The embedded reference stack: nginx (TLS) → API → Redis + PostgreSQL, and a worker.

All programs run as process groups on free 127.0.0.1 ports with their data in a temporary
directory; the state file in a state directory records them for later commands.
"""

from opsproof.stack.launcher import (
    ComponentStatus,
    StackStatus,
    stack_status,
    start_component,
    start_stack,
    stop_component,
    stop_stack,
)
from opsproof.stack.outage import component_down
from opsproof.stack.readiness import wait_healthy
from opsproof.stack.state import ComponentState, StackState, default_state_dir

__all__ = [
    "ComponentState",
    "ComponentStatus",
    "StackState",
    "StackStatus",
    "component_down",
    "default_state_dir",
    "stack_status",
    "start_component",
    "start_stack",
    "stop_component",
    "stop_stack",
    "wait_healthy",
]
