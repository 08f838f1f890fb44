"""What systemd says about a unit on a host, read over SSH with ``systemctl show`` (no root).

The properties are those an SRE's daily check and a kill experiment need: whether the unit
runs (ActiveState, SubState), its main process (MainPID), how often systemd restarted it
(NRestarts, since the unit last started by hand), its restart policy (Restart=) and
whether it is frozen (FreezerState).
"""

from dataclasses import dataclass

from opsproof.support.text import one_line
from opsproof.transport.ssh import SshSession

PROPERTIES = (
    "LoadState", "ActiveState", "SubState", "MainPID", "NRestarts", "Restart", "FreezerState",
)  # fmt: skip
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
    freezer_state: str
    """running or frozen (the cgroup v2 freezer: ``systemctl freeze``)."""

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
        freezer_state=values["FreezerState"],
    )
