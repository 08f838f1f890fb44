"""Host probes through pytest-testinfra: disk and memory headroom, exposed ports, secret files.

The host spec (``local://``, ``ssh://user@host``, ``docker://name``) picks testinfra's
transport, or, for a service naming a host under ``hosts:``, opsproof's own multiplexed SSH
session (probes/remote_host.py); the probes only run read-only commands and read files.
"""

import ipaddress
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import testinfra

from opsproof.config.models import DiskCheck, HostService, HostSpec
from opsproof.probes.remote_host import remote_host
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.redact import redact_url
from opsproof.support.text import one_line

# df blocks on a hung network mount; bound it (the host config has no timeout of its own).
_DF_TIMEOUT_S = 10
_DF_LINE = re.compile(r"^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+\d+%\s+(.*)$")


def _host_id(service: HostService, remote: HostSpec | None) -> str:
    return remote.url if remote is not None else redact_url(service.backend)


def _observe(
    target: str,
    probe: Callable[[Any], Observation],
    service: HostService,
    remote: HostSpec | None,
) -> Observation:
    """Run ``probe`` on the host; a transport failure becomes a failed observation."""
    try:
        return probe(remote_host(remote) if remote else testinfra.get_host(service.backend))
    # Each transport (paramiko, docker, kubectl, ...) raises its own exception types.
    except Exception as exc:
        reason = f"{target}: cannot inspect the host: {one_line(str(exc)) or type(exc).__name__}"
        return Observation(False, target, reason)


@timed
def disk_headroom(
    service: HostService, disk: DiskCheck, remote: HostSpec | None = None
) -> Observation:
    """The filesystem holding ``disk.path`` is used at most ``disk.max_used_percent``."""
    target = f"{_host_id(service, remote)} disk {disk.path}"

    def probe(host: Any) -> Observation:
        if not host.file(str(disk.path)).exists:
            return Observation(False, target, f"{target}: {disk.path} does not exist")
        df = host.run("timeout %s df -P -k -- %s", str(_DF_TIMEOUT_S), str(disk.path))
        lines = df.stdout.splitlines()
        match = _DF_LINE.match(lines[-1]) if df.rc == 0 and lines else None
        if match is None:
            why = one_line(df.stderr or df.stdout) or f"exit status {df.rc}"
            return Observation(False, target, f"{target}: df failed: {why}")
        used, available, mount = int(match[3]), int(match[4]), match[5]
        # As df: reserved blocks count neither as used nor as available.
        percent = round(100 * used / (used + available), 2) if used + available else 100.0
        allowed = disk.max_used_percent
        figures = {
            "used_percent": Figure(percent, "%", f"<= {allowed:g}"),
            "available_bytes": Figure(available * 1024, "bytes"),
        }
        reason = f"{target}: {mount} is {percent:g}% used, {available // 1024} MiB available"
        if percent > allowed:
            return Observation(False, target, f"{reason}; at most {allowed:g}% allowed", figures)
        return Observation(True, target, reason, figures)

    return _observe(target, probe, service, remote)


@timed
def memory_headroom(service: HostService, remote: HostSpec | None = None) -> Observation:
    """Memory in use (MemTotal - MemAvailable) is at most ``max_memory_used_percent``."""
    target = f"{_host_id(service, remote)} memory"

    def probe(host: Any) -> Observation:
        meminfo = host.file("/proc/meminfo")
        if not meminfo.exists:
            return Observation(False, target, f"{target}: /proc/meminfo is missing (not Linux?)")
        fields = dict(re.findall(r"^(\w+):\s+(\d+) kB$", meminfo.content_string, re.MULTILINE))
        if "MemTotal" not in fields or "MemAvailable" not in fields:
            return Observation(False, target, f"{target}: /proc/meminfo has no MemAvailable")
        total, available = int(fields["MemTotal"]), int(fields["MemAvailable"])
        percent = round(100 * (total - available) / total, 2)
        allowed = service.max_memory_used_percent
        figures = {
            "memory_used_percent": Figure(percent, "%", f"<= {allowed:g}"),
            "memory_available_bytes": Figure(available * 1024, "bytes"),
        }
        reason = f"{target}: {percent:g}% used, {available // 1024} MiB available"
        if percent > allowed:
            return Observation(False, target, f"{reason}; at most {allowed:g}% allowed", figures)
        return Observation(True, target, reason, figures)

    return _observe(target, probe, service, remote)


@timed
def private_port_not_public(
    service: HostService, port: int, remote: HostSpec | None = None
) -> Observation:
    """TCP ``port`` does not listen on all interfaces (``0.0.0.0`` or ``[::]``).

    Loopback only, a specific interface, or not listening at all passes, saying which.
    """
    target = f"{_host_id(service, remote)} tcp/{port}"

    def probe(host: Any) -> Observation:
        specs = host.socket.get_listening_sockets()
        addresses = sorted({a for spec in specs if (a := _tcp_address(spec, port)) is not None})
        public = [a for a in addresses if _is_wildcard(a)]
        if public:
            shown = ", ".join(f"[{a}]" if ":" in a else a for a in public)
            reason = f"{target}: listens on all interfaces ({shown}); bind it to 127.0.0.1"
            return Observation(False, target, reason)
        if not addresses:
            return Observation(True, target, f"{target}: not listening")
        scope = "loopback only" if all(map(_is_loopback, addresses)) else "specific interfaces"
        return Observation(True, target, f"{target}: {scope} ({', '.join(addresses)})")

    return _observe(target, probe, service, remote)


@timed
def secret_file_private(
    service: HostService, path: Path, remote: HostSpec | None = None
) -> Observation:
    """``path`` exists and is neither world-readable nor group- or world-writable.

    A symlink (as Kubernetes mounts secrets) is judged by the file it points to.
    """
    target = f"{_host_id(service, remote)} file {path}"

    def probe(host: Any) -> Observation:
        file = host.file(str(path))
        if not file.exists:
            return Observation(False, target, f"{target}: does not exist")
        if file.is_symlink:
            file = host.file(file.linked_to)
        mode = int(file.mode)
        figures = {"mode": Figure(f"{mode:04o}", target="no o+r, g+w, o+w")}
        problems = [
            text
            for bit, text in (
                (0o004, "world-readable"),
                (0o020, "group-writable"),
                (0o002, "world-writable"),
            )
            if mode & bit
        ]
        owner = f"{file.user}:{file.group}"
        if problems:
            reason = (
                f"{target}: mode {mode:04o} ({owner}) is {' and '.join(problems)}; chmod 0600 it"
            )
            return Observation(False, target, reason, figures)
        return Observation(True, target, f"{target}: mode {mode:04o} ({owner})", figures)

    return _observe(target, probe, service, remote)


def _tcp_address(spec: str, port: int) -> str | None:
    """The address of a ``tcp://host:port`` listening spec on ``port``, without a zone suffix."""
    protocol, _, rest = spec.partition("://")
    address, _, spec_port = rest.rpartition(":")
    if protocol != "tcp" or spec_port != str(port):
        return None
    return address.partition("%")[0]


def _parsed(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def _is_wildcard(address: str) -> bool:
    parsed = _parsed(address)
    return address == "*" or (parsed is not None and parsed.is_unspecified)


def _is_loopback(address: str) -> bool:
    parsed = _parsed(address)
    return parsed is not None and parsed.is_loopback
