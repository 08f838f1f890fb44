"""Is a process service running? Its runtime finds its processes; their states are reported,
and a service whose every process is stopped (SIGSTOP, a frozen container) is not alive."""

from collections import Counter

import psutil
import requests
from docker.errors import DockerException

from opsproof.errors import OpsproofError
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.runtimes import RemoteProcessRuntime, Runtime
from opsproof.support.text import one_line

STOPPED = str(psutil.STATUS_STOPPED)


@timed
def process_alive(runtime: Runtime) -> Observation:
    """At least one process found, not every one of them stopped; PIDs, states and memory as
    figures. A runtime that cannot be asked (no engine, unreadable PID file) fails with why."""
    target = runtime.id
    try:
        if isinstance(runtime, RemoteProcessRuntime):
            named, used = runtime.observe()  # PIDs of another host: psutil here cannot see them
        else:
            named = {pid: _state(pid) for pid in runtime.find()}
            used = runtime.resources()
        pids = list(named)
    except (OpsproofError, OSError, DockerException, requests.RequestException) as exc:
        why = one_line(str(exc), 300)
        said = why if why.startswith(target) else f"{target}: could not be looked up: {why}"
        return Observation(False, target, said)
    states = Counter(named.values())
    states.pop("gone", None)
    figures = {
        "processes": Figure(sum(states.values()), target=">= 1"),
        "rss_bytes": Figure(used.rss_bytes, "bytes"),
    }
    if not states:
        return Observation(False, target, f"{target}: no process found", figures)
    seen = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
    figures["states"] = Figure(seen)
    listed = ", ".join(str(pid) for pid in pids[:8]) + (" …" if len(pids) > 8 else "")
    if set(states) == {STOPPED}:
        reason = f"{target}: every process is stopped (paused), so it does no work: pids {listed}"
        return Observation(False, target, reason, figures)
    return Observation(True, target, f"{target}: running, pids {listed} ({seen})", figures)


def _state(pid: int) -> str:
    try:
        return str(psutil.Process(pid).status())
    except psutil.Error:
        return "gone"
