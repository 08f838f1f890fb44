"""A systemd unit's state on a host, read over SSH with ``systemctl show`` (no root needed).

The properties are those an SRE's daily check and a kill experiment need: whether the unit
runs (ActiveState, SubState), its main process (MainPID), how often systemd restarted it
(NRestarts, since the unit last started by hand) and its restart policy (Restart=).
"""

from dataclasses import dataclass

from opsproof.errors import HostError
from opsproof.probes.result import Figure, Observation
from opsproof.support.text import one_line
from opsproof.transport.ssh import SshSession

PROPERTIES = ("LoadState", "ActiveState", "SubState", "MainPID", "NRestarts", "Restart")
SHOW_TIMEOUT = 15.0


@dataclass(frozen=True)
class UnitState:
    """One reading of a unit's properties."""

    unit: str
    load_state: str
    active_state: str
    sub_state: str
    main_pid: int
    restarts: int
    restart_policy: str

    @property
    def running(self) -> bool:
        return (self.active_state, self.sub_state) == ("active", "running")


def read_unit(session: SshSession, unit: str) -> UnitState:
    """The unit's state now; HostError when the host cannot be asked, ValueError when systemctl
    answers something else than its properties."""
    shown = session.run(
        ["systemctl", "show", f"--property={','.join(PROPERTIES)}", "--", unit],
        timeout=SHOW_TIMEOUT,
        max_output=64 << 10,
        sudo=False,
    )
    if not shown.ok:
        why = one_line(shown.stderr.decode("utf-8", "replace")) or f"exit {shown.exit_status}"
        raise ValueError(f"systemctl show {unit} failed: {why}")
    values = dict(line.partition("=")[::2] for line in shown.text().splitlines() if "=" in line)
    missing = [name for name in PROPERTIES if name not in values]
    if missing:
        raise ValueError(f"systemctl show {unit} did not report {', '.join(missing)}")
    return UnitState(
        unit=unit,
        load_state=values["LoadState"],
        active_state=values["ActiveState"],
        sub_state=values["SubState"],
        main_pid=int(values["MainPID"] or 0),
        restarts=int(values["NRestarts"] or 0),
        restart_policy=values["Restart"],
    )


def unit_running(session: SshSession, unit: str, max_restarts: int | None = None) -> Observation:
    """The unit is loaded and running (and restarted at most ``max_restarts`` times)."""
    target = f"{session.endpoint.name} {unit}"
    try:
        state = read_unit(session, unit)
    except (HostError, ValueError) as error:
        return Observation(False, target, f"{target}: cannot read the unit: {error}")
    figures = {
        "main_pid": Figure(state.main_pid),
        "restarts": Figure(
            state.restarts, target=f"<= {max_restarts}" if max_restarts is not None else None
        ),
        "restart_policy": Figure(state.restart_policy),
    }
    if state.load_state != "loaded":
        return Observation(False, target, f"{target}: {state.load_state} (no such unit?)", figures)
    reason = (
        f"{target}: {state.active_state}/{state.sub_state}, main PID {state.main_pid}, "
        f"{state.restarts} restarts (Restart={state.restart_policy})"
    )
    if not state.running:
        return Observation(False, target, reason, figures)
    if max_restarts is not None and state.restarts > max_restarts:
        return Observation(False, target, f"{reason}; at most {max_restarts} allowed", figures)
    return Observation(True, target, reason, figures)
