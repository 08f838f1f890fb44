"""Take one component down for a while and make sure the stack is healthy again afterwards."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opsproof.errors import StackError
from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import start_component, stop_component
from opsproof.stack.readiness import wait_healthy
from opsproof.support.processes import ComponentState


@contextmanager
def component_down(
    state_dir: Path, name: str, *, recover_timeout: float = 30.0
) -> Iterator[ComponentState]:
    """Stop ``name`` for the block; afterwards start it again and wait until ``/health/deep``
    answers 200 through nginx, so later checks find the stack as it was."""
    stop_component(state_dir, name)
    try:
        state = StackState.load(state_dir)
        if state is None:
            raise StackError(f"no reference stack recorded in {state_dir}")
        yield state.components[name]
    finally:
        start_component(state_dir, name, timeout=recover_timeout)
        recovered = StackState.load(state_dir)
        if recovered is None:
            raise StackError(f"the reference stack in {state_dir} vanished during an outage")
        wait_healthy(recovered, recover_timeout)
