"""Is a systemd unit on a host running, and has systemd had to restart it?"""

from opsproof.config.models import HostSpec
from opsproof.errors import HostError
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.transport.pool import SESSIONS
from opsproof.transport.ssh import SshSession
from opsproof.transport.systemctl import read_unit


@timed
def declared_unit_running(
    host: HostSpec, unit: str, max_restarts: int | None = None
) -> Observation:
    """:func:`unit_running` through the run's one session to a host under ``hosts:``; a host
    that cannot be reached fails the observation saying why."""
    try:
        session = SESSIONS.session(host)
    except HostError as error:
        return Observation(False, f"{host.url} {unit}", f"{host.url} {unit}: {error}")
    return unit_running(session, unit, max_restarts)


def unit_running(session: SshSession, unit: str, max_restarts: int | None = None) -> Observation:
    """The unit is loaded and running (and restarted at most ``max_restarts`` times)."""
    target = f"{session.endpoint.name} {unit}"
    try:
        state = read_unit(session, unit)
    except (HostError, ValueError) as error:
        return Observation(False, target, f"{target}: cannot read the unit: {error}")
    figures = {
        "active_state": Figure(state.active_state),
        "sub_state": Figure(state.sub_state),
        "main_pid": Figure(state.main_pid),
        "restarts": Figure(
            state.restarts, target=f"<= {max_restarts}" if max_restarts is not None else None
        ),
        "restart_policy": Figure(state.restart_policy),
        "freezer_state": Figure(state.freezer_state),
    }
    if state.load_state != "loaded":
        return Observation(False, target, f"{target}: {state.load_state} (no such unit?)", figures)
    reason = (
        f"{target}: {state.active_state}/{state.sub_state}, main PID {state.main_pid}, "
        f"{state.restarts} restarts (Restart={state.restart_policy})"
    )
    if not state.running:
        return Observation(False, target, reason, figures)
    if state.freezer_state != "running":
        return Observation(
            False, target, f"{reason}; {state.freezer_state}: it does no work", figures
        )
    if max_restarts is not None and state.restarts > max_restarts:
        return Observation(False, target, f"{reason}; at most {max_restarts} allowed", figures)
    return Observation(True, target, reason, figures)
