"""CPU of local processes over a short window: the CPU time they used divided by the wall
time, in cores (as ``top`` shows it: 1.0 is one core busy)."""

import time
from contextlib import suppress

import psutil


def cpu_seconds(pids: tuple[int, ...]) -> dict[int, float]:
    used: dict[int, float] = {}
    for pid in pids:
        with suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            used[pid] = times.user + times.system
    return used


def process_cores(pids: tuple[int, ...], window: float) -> float:
    """Cores used by ``pids`` over ``window``; a process that ends meanwhile counts no more."""
    before = cpu_seconds(pids)
    began = time.monotonic()
    time.sleep(window)  # the sampling window itself
    after, ended = cpu_seconds(pids), time.monotonic()
    used = sum(max(after[pid] - before[pid], 0.0) for pid in after if pid in before)
    return used / (ended - began)
