"""What systemd says about a unit on a host, read over SSH with ``systemctl show`` (no root).

The properties are those an SRE's daily check and a kill experiment need: whether the unit
runs (ActiveState, SubState), its main process (MainPID), how often systemd restarted it
(NRestarts, since the unit last started by hand), its restart policy (Restart=), whether it is
frozen (FreezerState), and systemd's own clock of when it last left and entered the active
state, which times a restart without the SSH round trips in it.
"""

from dataclasses import dataclass

from opsproof.transport.ssh import SshSession

PROPERTIES = (
    "LoadState", "ActiveState", "SubState", "MainPID", "NRestarts", "Restart", "FreezerState",
    "Result", "ControlGroup", "ActiveExitTimestampMonotonic", "ActiveEnterTimestampMonotonic",
)  # fmt: skip
SHOW_TIMEOUT = 15.0

RESTARTS_AFTER_SIGKILL = frozenset({"always", "on-failure", "on-abnormal", "on-abort"})
"""Restart= values under which systemd restarts a unit whose main process died of an unclean
signal such as SIGKILL (systemd.service(5), the table under Restart=)."""


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
    freezer_state: str
    """running or frozen (the cgroup v2 freezer: ``systemctl freeze``)."""
    result: str = "success"
    """Why the unit last stopped: success, signal, oom-kill, exit-code, ..."""
    control_group: str = ""
    active_until_us: int = 0
    """When the unit last left the active state (its main process died, it was stopped), on
    the host's monotonic clock (µs; 0: never)."""
    active_since_us: int = 0
    """When the unit last became active, on the host's monotonic clock (µs)."""

    @property
    def running(self) -> bool:
        return (self.active_state, self.sub_state) == ("active", "running")

    @property
    def restarts_after_kill(self) -> bool:
        """Whether its Restart= policy has systemd bring it back after a SIGKILL."""
        return self.restart_policy in RESTARTS_AFTER_SIGKILL


def show(
    session: SshSession, unit: str, properties: tuple[str, ...], *, sudo: bool = False
) -> dict[str, str]:
    """The unit's ``properties`` as systemctl prints them; ValueError when it answers
    something else (HostError when the host cannot be asked)."""
    shown = session.run(
        ["systemctl", "show", f"--property={','.join(properties)}", "--", unit],
        timeout=SHOW_TIMEOUT,
        max_output=64 << 10,
        sudo=sudo,
    )
    if not shown.ok:
        why = shown.why()
        raise ValueError(f"systemctl show {unit} failed: {why}")
    values = dict(line.partition("=")[::2] for line in shown.text().splitlines() if "=" in line)
    missing = [name for name in properties if name not in values]
    if missing:
        raise ValueError(f"systemctl show {unit} did not report {', '.join(missing)}")
    return values


def read_unit(session: SshSession, unit: str) -> UnitState:
    """The unit's state now; HostError when the host cannot be asked, ValueError when systemctl
    answers something else than its properties."""
    values = show(session, unit, PROPERTIES)
    return UnitState(
        unit=unit,
        load_state=values["LoadState"],
        active_state=values["ActiveState"],
        sub_state=values["SubState"],
        main_pid=int(values["MainPID"] or 0),
        restarts=int(values["NRestarts"] or 0),
        restart_policy=values["Restart"],
        freezer_state=values["FreezerState"],
        result=values["Result"],
        control_group=values["ControlGroup"],
        active_until_us=int(values["ActiveExitTimestampMonotonic"] or 0),
        active_since_us=int(values["ActiveEnterTimestampMonotonic"] or 0),
    )
