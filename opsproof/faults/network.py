"""Network faults between one service and one dependency: latency, loss, reset, blackhole.

The service's processes join a net_cls cgroup with a class id of their own; nftables rules
match that class id and the dependency's address, so only this service's traffic to this
dependency is hit — existing connections included, since the kernel re-tags a process's
sockets when it changes cgroup. Latency has no kernel mechanism here (no netem): nftables
redirects the service's new connections through a delaying proxy and resets the old ones.
"""

import hashlib
import ipaddress
import select
import socket
import subprocess
import sys
import time
from urllib.parse import SplitResult, urlsplit

import psutil

from opsproof.config.models import (
    HttpService,
    NetworkFaultSpec,
    PostgresService,
    RedisService,
    Service,
)
from opsproof.errors import SafetyError
from opsproof.faults import cgroups, nft
from opsproof.faults.inverse import DeleteRules, DissolveScope, InverseStep, KillHelper
from opsproof.probes.result import Figure, Observation
from opsproof.runtimes.process import ProcessRuntime, ProcessTarget

PROXY_START_TIMEOUT = 5.0
_DEFAULT_PORTS = {"redis": 6379, "rediss": 6379, "postgresql": 5432, "postgres": 5432,
                  "http": 80, "https": 443}  # fmt: skip


def endpoint(service: Service) -> tuple[str, int]:
    """The dependency's IP address and TCP port, from its URL or DSN."""
    parts = _url(service)
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    address = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)[0][4][0]
    return str(address), port


def dependency_port(spec: NetworkFaultSpec, service: Service) -> int:
    """The port a network fault matches: ``port:`` as the service reaches the dependency, else
    the dependency URL's (resolving nothing)."""
    if spec.port is not None:
        return spec.port
    parts = _url(service)
    return parts.port or _DEFAULT_PORTS[parts.scheme]


def _url(service: Service) -> SplitResult:
    if isinstance(service, RedisService | HttpService):
        url = service.url
    elif isinstance(service, PostgresService):
        url = service.dsn
    else:
        raise SafetyError(
            f"a network fault needs a redis, postgres or http dependency, not {service.kind}"
        )
    return urlsplit(url)


class NetworkDisruption:
    def __init__(
        self,
        spec: NetworkFaultSpec,
        target: ProcessTarget,
        dependency: tuple[str, int],
        fault_id: str,
        lifetime: float,
    ) -> None:
        self.spec = spec
        self.runtime = ProcessRuntime(target)
        self.address, self.port = dependency
        self.name = fault_id
        self.table = "opsproof_" + fault_id.replace("-", "")[:16]
        digest = int(hashlib.sha256(fault_id.encode()).hexdigest(), 16)
        self.classid = (0x4F50 << 16) | (digest % 0xFFFF + 1)
        self.lifetime = lifetime
        self._pids: list[int] = []
        self._proxy_port = 0

    @property
    def target(self) -> str:
        return f"{self.runtime.id} -> {self.spec.dependency} {self.address}:{self.port}"

    @property
    def description(self) -> str:
        what = {
            "latency": f"{self.spec.latency * 1000:g} ms added latency",
            "loss": f"{self.spec.loss:.0%} packet loss",
            "reset": "connection resets",
            "blackhole": "blackhole (packets dropped)",
        }[self.spec.mode]
        return f"{what} on {self.target}"

    @property
    def undo(self) -> str:
        extra = ", stop the delay proxy" if self.spec.mode == "latency" else ""
        return f"delete nft table {self.table}, move {self.runtime.id} back to its cgroup{extra}"

    def prepare(self) -> list[InverseStep]:
        self._pids = self.runtime.find()
        if not self._pids:
            raise SafetyError(f"{self.runtime.id} is not running: no traffic to disturb")
        origins = {pid: cgroups.current("net_cls", pid) for pid in self._pids}
        steps: list[InverseStep] = [
            DeleteRules(table=self.table),
            DissolveScope(controller="net_cls", name=self.name, origins=origins),
        ]
        if self.spec.mode == "latency":
            # harmless until the rules point at it, and it exits by itself at the deadline
            proxy, self._proxy_port = self._start_proxy()
            steps.append(KillHelper(pid=proxy.pid, create_time=proxy.create_time()))
        return steps

    def _start_proxy(self) -> tuple[psutil.Process, int]:
        host = f"[{self.address}]" if ":" in self.address else self.address
        proc = subprocess.Popen(
            [sys.executable, "-m", "opsproof.faults.proxy", "--upstream", f"{host}:{self.port}",
             "--delay", str(self.spec.latency), "--until", str(time.time() + self.lifetime)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], PROXY_START_TIMEOUT)
        line = proc.stdout.readline().strip() if ready else ""
        if not line.isdigit():
            proc.kill()
            raise SafetyError(f"the delay proxy did not start within {PROXY_START_TIMEOUT:g} s")
        return psutil.Process(proc.pid), int(line)

    def _ruleset(self) -> str:
        ip = "ip6" if ipaddress.ip_address(self.address).version == 6 else "ip"
        match = f"meta cgroup {self.classid} {ip} daddr {self.address} tcp dport {self.port}"
        # latency: connections made before the redirect are reset, so the service reconnects
        verdict = (
            "ct status != dnat counter reject with tcp reset"
            if self.spec.mode == "latency"
            else nft.verdict(self.spec.mode, self.spec.loss)
        )
        chains = [
            f"chain out {{ type filter hook output priority 0; policy accept; {match} {verdict}; }}"
        ]
        if self.spec.mode == "latency":
            chains.append(
                "chain nat { type nat hook output priority -100; policy accept; "
                f"{match} counter redirect to :{self._proxy_port}; }}"
            )
        body = "\n  ".join(chains)
        return f"table {nft.FAMILY} {self.table} {{\n  {body}\n}}\n"

    def inject(self) -> None:
        scope = cgroups.create("net_cls", self.name)
        cgroups.write(scope, "net_cls.classid", str(self.classid))
        for pid in self._pids:
            cgroups.move("net_cls", pid, f"/{cgroups.SCOPE_PARENT}/{self.name}")
        nft.load(self._ruleset())

    def effect(self) -> Observation:
        hits = nft.packets(self.table)
        figures = {"packets_hit": Figure(hits, target="> 0")}
        reason = f"{hits} packets of {self.target} hit the fault's rules"
        return Observation(hits > 0, self.target, reason, figures)
