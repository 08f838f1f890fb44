"""The program that reads a remote process's health, run here on real processes (it is plain
Perl over /proc, the same on any Linux host; the SSH round trip is proven on the test host):
each figure reads what the process does — CPU over the window on /proc's own clock, RSS, open
files against the soft limit, SIGSTOP, a restart as a new identity — and a process the finder
does not find is not running."""

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from opsproof.health.reading import HealthReading
from opsproof.health.remote_process_reader import HEALTH, SHARED_CGROUP, parse_health
from opsproof.support.waiting import poll_until

HOLD = """\
import pathlib, resource, sys, time
ready, kind = pathlib.Path(sys.argv[1]), sys.argv[2]
held = [bytearray(64 << 20)] if kind == "memory" else []
if kind == "files":
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    held += [open("/dev/null") for _ in range(50)]
ready.touch()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    if kind != "busy":
        time.sleep(0.2)
"""

Hold = Callable[..., tuple[str, subprocess.Popen[bytes]]]


@pytest.fixture
def hold(tmp_path: Path) -> Iterator[Hold]:
    """Start a process that idles, spins, holds 64 MiB or 50 files; its marker and handle."""
    started: list[subprocess.Popen[bytes]] = []

    def _hold(kind: str, marker: str = "") -> tuple[str, subprocess.Popen[bytes]]:
        marker = marker or f"opsproof-remote-health-{uuid.uuid4().hex[:8]}"
        ready = tmp_path / f"{marker}.{len(started)}.ready"
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(ready), kind, marker])
        started.append(proc)
        assert poll_until(ready.exists, 20.0), f"{kind} process not ready"
        return marker, proc

    yield _hold
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)


def read(marker: str, window: float = 0.0) -> HealthReading:
    argv = ["perl", "-e", HEALTH, "match", marker.encode().hex(), str(window)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    return parse_health("process://host/svc", done.stdout, windowed=window > 0)


@pytest.mark.alone  # a busy loop's share of a core: beside other workers it got 0.26
def test_a_busy_process_reads_about_one_core_and_an_idle_one_almost_none(hold: Hold) -> None:
    busy, _ = hold("busy")
    idle, _ = hold("idle")
    spinning, resting = read(busy, window=1.0), read(idle, window=1.0)
    assert spinning.cpu_cores is not None and spinning.cpu_cores > 0.3, spinning
    assert resting.cpu_cores is not None and resting.cpu_cores < 0.1, resting
    assert read(idle).cpu_cores is None  # no window asked: not read, and not a failure
    assert read(idle).unread == {}


def test_memory_and_open_files_are_read_against_the_soft_limit(hold: Hold) -> None:
    memory, _ = hold("memory")
    files, proc = hold("files")
    assert (read(memory).memory_bytes or 0) > 64 << 20
    held = read(files).open_files
    assert held is not None and held.pid == proc.pid and held.limit == 64
    assert 50 <= held.count < 64 and held.share > 0.75


def test_a_stopped_process_is_trouble_and_a_restart_a_new_identity(hold: Hold) -> None:
    marker, proc = hold("idle")
    first = read(marker)
    assert first.running and not first.trouble and first.absent == {"oom_kills": SHARED_CGROUP}
    os.kill(proc.pid, signal.SIGSTOP)
    assert poll_until(lambda: bool(read(marker).trouble), 10.0)
    assert f"PID {proc.pid} stopped" in read(marker).trouble
    proc.kill()
    proc.wait(timeout=10)
    assert read(marker) == HealthReading(
        "process://host/svc", running=False, state="no process found"
    )
    hold("idle", marker)  # started again under the same command line
    again = read(marker)
    assert again.running and again.identity and again.identity != first.identity
