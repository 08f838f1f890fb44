"""Network partitions inside a container's own network namespace.

A container run with ``--network none`` (or a bridge) has a namespace of its own, and the
containers that join it (``network_mode: container:<name>``: an app and its Redis talking over
that namespace's loopback) share it. The fault's nftables table is loaded into that namespace
with this machine's ``nft`` through ``nsenter``: it sees only that namespace's traffic, so the
rule needs no more than the dependency's port (and address). A container on the host's network
has no namespace of its own: a rule there would hit the whole machine, so it is refused.
"""

import ipaddress

from opsproof.config.models import NetworkFaultSpec
from opsproof.errors import SafetyError
from opsproof.faults import netns, nft
from opsproof.faults.container_inverse import DeleteNamespaceTable
from opsproof.faults.inverse import InverseStep
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes.docker import DockerRuntime, DockerTarget


def host_network_refusal(container: str) -> str:
    """Why a container on the host's network takes no network fault."""
    return (
        f"container {container!r} runs on the host's network (network_mode: host), so it has "
        "no network namespace of its own and a rule would hit every process of this machine; "
        "run it in a namespace of its own (--network none or a bridge, its dependencies joining "
        "it with network_mode: container:NAME), or declare it as runtime: process, whose "
        "network faults match its own processes"
    )


class ContainerNetworkPartition:
    """Drop, reset or thin the TCP traffic to one port (and address) in the namespace of the
    service's container."""

    def __init__(
        self,
        spec: NetworkFaultSpec,
        target: DockerTarget,
        address: str | None,
        port: int,
        fault_id: str,
    ) -> None:
        self.spec = spec
        self.runtime = DockerRuntime(target)
        self._target = target
        self.address, self.port = address, port
        self.table = nft.table_name(fault_id)
        self._pid = 0

    @property
    def target(self) -> str:
        return self.runtime.id

    @property
    def _to(self) -> str:
        return f"{self.address or '*'}:{self.port}"

    @property
    def description(self) -> str:
        what = nft.in_words(self.spec.mode, self.spec.loss)
        return (
            f"{what} from {self.target} to {self.spec.dependency} {self._to} inside the "
            f"container's network namespace (nftables table inet {self.table})"
        )

    @property
    def undo(self) -> str:
        return f"delete nftables table inet {self.table} in the container's network namespace"

    def prepare(self) -> list[InverseStep]:
        if self.spec.mode not in nft.VERDICTS:
            raise SafetyError(
                f"{self.target}: {self.spec.mode} is not done in a container; use "
                f"{', '.join(nft.VERDICTS)}"
            )
        container = self.runtime.container()
        if container.attrs["HostConfig"].get("NetworkMode") == "host":
            raise SafetyError(host_network_refusal(self._target.container))
        self._pid = int(container.attrs["State"].get("Pid") or 0)
        namespace = netns.identity(self._pid) if self._pid else ""
        if not namespace:
            raise SafetyError(f"{self.target} is not running: no traffic to disturb")
        step = DeleteNamespaceTable(
            target=self._target, pid=self._pid, namespace=namespace, table=self.table
        )
        return [step]

    def ruleset(self) -> str:
        match = ""
        if self.address:
            family = "ip6" if ipaddress.ip_address(self.address).version == 6 else "ip"
            match = f"{family} daddr {self.address} "
        rule = f"{match}tcp dport {self.port} {nft.verdict(self.spec.mode, self.spec.loss)}"
        return nft.output_table(self.table, rule)

    def inject(self) -> None:
        netns.load(self._pid, self.ruleset())

    def effect(self) -> Observation:
        hits = netns.packets(self._pid, self.table)
        figures = {"packets_hit": Figure(hits, target="> 0")}
        reason = f"{hits} packets to {self._to} in {self.target}'s namespace hit the fault's rule"
        return Observation(hits > 0, self.target, reason, figures)
