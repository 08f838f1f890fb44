"""Network partitions and disk fills on the host of a systemd unit, over SSH.

The network rules live in an nftables table of the fault's own on the host
(``opsproof-<id>``) and match as narrowly as the kernel allows: the unit's own cgroup
(``socket cgroupv2``, so only sockets the unit's processes opened) and the dependency's port
(and address, when given). A disk fill is one file of the fault's own, allocated only if the
filesystem keeps its floor free, checked and allocated in one command on the host. Like every
unit fault, the undo is scheduled on the host before anything changes
(``unit_inverse.arm_deadman``).
"""

import ipaddress
import shlex

from opsproof.config.models import DiskFaultSpec, NetworkFaultSpec
from opsproof.errors import HostError, SafetyError, StackError
from opsproof.faults import nft
from opsproof.faults.disk import FILL_PREFIX
from opsproof.faults.inverse import InverseStep
from opsproof.faults.unit_faults import UnitFault
from opsproof.faults.unit_inverse import DeleteHostTable, RemoveHostFile
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes.systemd import SystemdTarget
from opsproof.support.text import one_line
from opsproof.support.waiting import poll

NFT_TIMEOUT = 30.0
EFFECT_WAIT = 10.0
"""Seconds a partition waits for the service's first packet to hit its rule."""
FILL_TIMEOUT = 120.0


class UnitNetworkPartition(UnitFault):
    """Drop, reset or thin the unit's own outbound TCP to one dependency port on its host."""

    def __init__(
        self,
        spec: NetworkFaultSpec,
        target: SystemdTarget,
        port: int,
        fault_id: str,
        lifetime: float,
    ) -> None:
        super().__init__(target, fault_id, lifetime)
        self.spec = spec
        self.port = port
        self.table = nft.table_name(fault_id)
        self._cgroup = ""

    @property
    def _to(self) -> str:
        return f"{self.spec.address or '*'}:{self.port}"

    @property
    def description(self) -> str:
        what = nft.in_words(self.spec.mode, self.spec.loss)
        return (
            f"{what} from {self.target} to {self.spec.dependency} {self._to} "
            f"(nftables table inet {self.table} on the host, matching the unit's cgroup)"
        )

    @property
    def undo(self) -> str:
        return f"delete nftables table inet {self.table} on the host; scheduled there too"

    def prepare(self) -> list[InverseStep]:
        if self.spec.mode not in nft.VERDICTS:
            raise SafetyError(
                f"{self.target}: {self.spec.mode} is not done on a unit's host; use "
                f"{', '.join(nft.VERDICTS)}"
            )
        self._running("cut off")
        self._cgroup = self.runtime.control_group()
        return self._ledgered([DeleteHostTable(target=self._target, table=self.table)])

    def ruleset(self) -> str:
        """The table: one output rule matching the unit's sockets and the dependency."""
        group = self._cgroup.strip("/")
        match = f'socket cgroupv2 level {group.count("/") + 1} "{group}"'
        if self.spec.address:
            family = "ip6" if ipaddress.ip_address(self.spec.address).version == 6 else "ip"
            match += f" {family} daddr {self.spec.address}"
        match += f" tcp dport {self.port}"
        rule = f"{match} {nft.verdict(self.spec.mode, self.spec.loss)}"
        return nft.output_table(self.table, rule)

    def inject(self) -> None:
        self._arm()
        # the ruleset travels as an argument: the session has no stdin to give nft
        script = 'printf "%s\\n" "$1" | nft -f -'
        done = self.runtime.session.run(
            ["sh", "-c", script, "sh", self.ruleset()], timeout=NFT_TIMEOUT, sudo=True
        )
        if not done.ok:
            why = done.why()
            raise StackError(f"{self.target}: nft refused the fault's rules: {why}")

    def packets(self) -> int:
        """Packets counted by the table's rule on the host (0 when the table is gone)."""
        argv = ["nft", "-j", "list", "table", nft.FAMILY, self.table]
        try:
            done = self.runtime.session.run(argv, timeout=NFT_TIMEOUT, sudo=True)
        except HostError:  # unread is unproven: the verdict says inconclusive, the revert runs
            return 0
        return nft.counted(done.text()) if done.ok else 0

    def effect(self) -> Observation:
        """Packets counted by the rule, waited for up to EFFECT_WAIT (a quiet service sends
        nothing for a while)."""
        _, hits = poll(self.packets, lambda n: n > 0, EFFECT_WAIT)
        figures = {"packets_hit": Figure(hits, target="> 0"), "cgroup": Figure(self._cgroup)}
        reason = f"{hits} packets of {self.target} to {self._to} hit the fault's rule"
        return Observation(hits > 0, self.target, reason, figures)


class UnitDiskFill(UnitFault):
    """Allocate ``size`` bytes in a directory on the unit's host, in a file of the fault's own,
    only if ``keep_free`` stays free (checked and allocated in one command there)."""

    def __init__(
        self, spec: DiskFaultSpec, target: SystemdTarget, fault_id: str, lifetime: float
    ) -> None:
        super().__init__(target, fault_id, lifetime)
        self.spec = spec
        self.file = f"{str(spec.path).rstrip('/')}/{FILL_PREFIX}{fault_id}"
        self._free_before = 0

    @property
    def description(self) -> str:
        return (
            f"disk fill of {self.spec.path} on {self.target.split('/')[2]} by "
            f"{self.spec.size.human_readable()} (keeping {self.spec.keep_free.human_readable()} "
            "free)"
        )

    @property
    def undo(self) -> str:
        return f"remove {self.file} on the host; scheduled there too"

    def prepare(self) -> list[InverseStep]:
        self._free_before = self._free()
        left = self._free_before - int(self.spec.size)
        if left < self.spec.keep_free:
            raise SafetyError(
                f"refused: filling {self.spec.path} on {self._target.host.url} by "
                f"{self.spec.size.human_readable()} would leave {max(left, 0) >> 20} MiB free, "
                f"less than keep_free ({self.spec.keep_free.human_readable()})"
            )
        return self._ledgered([RemoveHostFile(target=self._target, path=self.file)])

    def _free(self) -> int:
        path = shlex.quote(str(self.spec.path))
        script = f"test -d {path} && df -B1 --output=avail -- {path} | tail -n 1"
        done = self.runtime.session.run(["sh", "-c", script], timeout=NFT_TIMEOUT)
        if not done.ok or not done.text().strip().isdigit():
            raise SafetyError(
                f"{self._target.host.url}: {self.spec.path} is not a directory there; point "
                "path at the service's data directory on that host"
            )
        return int(done.text().strip())

    def inject(self) -> None:
        self._arm()
        size, keep = int(self.spec.size), int(self.spec.keep_free)
        path, file = shlex.quote(str(self.spec.path)), shlex.quote(self.file)
        # checked again where it happens: another writer may have used the room since prepare
        script = (
            f"free=$(df -B1 --output=avail -- {path} | tail -n 1); "
            f"[ $((free - {size})) -ge {keep} ] || "
            '{ echo "only $free bytes free" >&2; exit 3; }; '
            f"(umask 077; fallocate -l {size} -- {file})"
        )
        done = self.runtime.session.run(["sh", "-c", script], timeout=FILL_TIMEOUT, sudo=True)
        if not done.ok:
            why = done.why()
            raise StackError(f"{self.target}: the disk fill was not made: {why}")

    def effect(self) -> Observation:
        file, path = shlex.quote(self.file), shlex.quote(str(self.spec.path))
        script = (
            f"stat -c '%b %B' -- {file} 2>/dev/null || echo '0 0'; "
            f"df -B1 --output=avail -- {path} | tail -n 1"
        )
        try:
            done = self.runtime.session.run(["sh", "-c", script], timeout=NFT_TIMEOUT, sudo=True)
            lines = done.text().split("\n")
            blocks, block_size = (int(word) for word in lines[0].split())
            allocated, free_now = blocks * block_size, int(lines[1].strip() or 0)
        except (HostError, ValueError, IndexError) as error:  # unread is unproven, never a crash
            why = one_line(str(error)) or type(error).__name__
            return Observation(False, self.target, f"the fill on the host was not read: {why}")
        figures = {
            "allocated_bytes": Figure(allocated, "B", f">= {int(self.spec.size)}"),
            "free_bytes_before": Figure(self._free_before, "B"),
            "free_bytes_during": Figure(free_now, "B", f">= {int(self.spec.keep_free)}"),
        }
        reason = (
            f"{allocated >> 20} MiB allocated in {self.spec.path} on "
            f"{self._target.host.url}; {free_now >> 20} MiB free"
        )
        return Observation(allocated >= self.spec.size, self.target, reason, figures)
