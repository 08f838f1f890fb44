"""A soak of hours must not grow the generators' memory: a worker sends and forgets each second,
the master merges it into the run's totals and writes it to the timeline file. Here seconds are
simulated through the worker's collector and the master's merge; the memory they hold in the
last 40 of 280 seconds must be that of the 40 after a warm-up, and the same measurement must
see the growth of a master that kept its seconds in memory (as it once did)."""

import gc
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from opsproof.load.locust.collector import Collector
from opsproof.load.locust.columns import RequestSample
from opsproof.load.locust.seconds import SecondsLog
from opsproof.load.result import Second, read_timeline
from opsproof.load.stats import MetricSet

WARM_UP_S, SOAK_S, WINDOW_S = 40, 280, 40
BOUND_BYTES = 64 * 1024
"""Growth allowed over 200 seconds: about 300 bytes a second, less than one Second."""


def one_second(collector: Collector, second: int, requests: int = 100) -> None:
    """``second``'s requests, recorded as the worker records them, and its CPU sample; every
    latency a new value, as on a slow service, so nothing stays bounded by repeating values."""
    collector.start_at(time.monotonic() - second - 0.5)  # the clock now reads mid-``second``
    for n in range(requests):
        micros = 1000 + second * requests + n
        failed = n % 17 == 0
        collector.request(
            RequestSample(
                method="GET", name=f"/item/{n % 3}", url=f"/item/{n}", micros=micros,
                status=500 if failed else 200, size=150, failed=failed, corrected=None, wire=None,
                failure=("bad status", "500") if failed else None,
            )
        )  # fmt: skip
    collector.iteration(time.monotonic() - 0.002, time.monotonic())
    collector.sample(vus=10)


def retained_growth(tmp_path: Path, keep: Callable[[Second], None]) -> int:
    """The most memory held in the last WINDOW_S seconds of SOAK_S minus the most held in the
    WINDOW_S seconds after WARM_UP_S, by the worker's collector and the master's merge. Peaks,
    as buffers that fill and empty (a trend's pending values) are bounded, not constant."""
    collector = Collector("soak", [], corrected=False)
    totals, log = MetricSet(), SecondsLog(tmp_path / "timeline-soak.jsonl")
    early, late = range(WARM_UP_S, WARM_UP_S + WINDOW_S), range(SOAK_S - WINDOW_S, SOAK_S)
    peaks = {"early": 0, "late": 0}
    tracemalloc.start()
    try:
        for second in range(SOAK_S):
            one_second(collector, second)
            wires, upto = collector.drain(final=False)
            for wire in wires:
                metrics = MetricSet.from_wire(wire["metrics"])  # type: ignore[arg-type]
                totals.merge(metrics)
                log.absorb(wire, metrics)
            log.close_before(upto)
            if log.last is not None:
                keep(log.last)
            window = "early" if second in early else "late" if second in late else None
            if window:
                gc.collect()  # an HDR histogram and its encoder are a cycle: garbage, not growth
                peaks[window] = max(peaks[window], tracemalloc.get_traced_memory()[0])
        return peaks["late"] - peaks["early"]
    finally:
        tracemalloc.stop()


def test_memory_of_a_long_run_does_not_grow_with_its_seconds(tmp_path: Path) -> None:
    growth = retained_growth(tmp_path, keep=lambda second: None)
    assert growth < BOUND_BYTES, f"{growth} bytes more held after {SOAK_S - WINDOW_S - WARM_UP_S} s"
    timeline = read_timeline(tmp_path / "timeline-soak.jsonl")
    assert [s.t for s in timeline] == list(range(SOAK_S - 1))  # all closed, on disk, in order
    assert all(s.requests == 100 and s.durations for s in timeline)


def test_the_measurement_sees_seconds_kept_in_memory(tmp_path: Path) -> None:
    kept: list[Second] = []
    growth = retained_growth(tmp_path, keep=kept.append)
    assert growth > 2 * BOUND_BYTES, f"only {growth} bytes for {len(kept)} seconds kept"
