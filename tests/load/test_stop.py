"""A caller may end a run early (a chaos experiment done with its background load): the run
stops within seconds of the request, its result written as usual and marked, and each second
carries its latency histogram, so any span of seconds has exact percentiles."""

import threading
import time
from collections.abc import Callable

from opsproof.load.result import LoadResult
from opsproof.load.stats import Trend

Run = Callable[..., LoadResult]


def test_a_caller_stops_a_long_run_and_keeps_its_result(run: Run) -> None:
    stop = threading.Event()
    timer = threading.Timer(4.0, stop.set)
    options = {"scenarios": {"long": {"executor": "constant-vus", "vus": 2, "duration": "60s",
                                      "exec": "Sleepy"}}}  # fmt: skip
    began = time.monotonic()
    timer.start()
    try:
        result = run(options, stop=stop)
    finally:
        timer.cancel()
    took = time.monotonic() - began
    assert took < 40, f"the run took {took:.1f} s after a stop at 4 s"  # far below its 60 s
    assert not result.errors, result.errors
    assert result.aborted is not None and "its caller asked" in result.aborted
    seconds = [s for s in result.timeline if s.requests]
    assert seconds and all(s.durations is not None for s in seconds)
    merged = Trend()
    for second in seconds:
        assert second.durations is not None
        merged.merge(Trend.from_wire(second.durations))
    assert merged.count == sum(s.requests for s in seconds)
    total = result.metrics.trends["http_req_duration"]
    assert merged.percentile_ms(95) == total.percentile_ms(95)  # the seconds are the run
