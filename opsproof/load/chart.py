"""A run's chart: what each second measured (requests/s, VUs, p50/p95/p99) beside what the
profile intended, as the series of the evidence's ``LoadRecord``; the report draws them inline
(``evidence/load_chart.py``) and ``render`` writes the same SVG as a file of its own."""

from collections.abc import Sequence

from opsproof.evidence.load_chart import load_chart
from opsproof.evidence.records import ChartSeries, LoadRecord
from opsproof.load.options import ArrivalRate, ConstantVus, RampingVus
from opsproof.load.profile import Profile
from opsproof.load.result import Second
from opsproof.load.schedules import ArrivalSchedule, vus_at


def intended(profile: Profile, seconds: int) -> tuple[list[float], list[float]]:
    """Per second: VUs the VU-based scenarios intend, and iterations the arrival-rate ones
    intend to begin."""
    vus, rate = [0.0] * seconds, [0.0] * seconds
    for scenario in profile.scenarios.values():
        for t in range(seconds):
            local = t - scenario.start_time
            if isinstance(scenario, ConstantVus | RampingVus):
                vus[t] += vus_at(scenario, local + 0.5) if local + 0.5 >= 0 else 0
            elif isinstance(scenario, ArrivalRate):
                schedule = ArrivalSchedule(scenario)
                rate[t] += schedule.before(local + 1) - schedule.before(local)
    return vus, rate


def series(timeline: Sequence[Second], profile: Profile) -> list[ChartSeries]:
    seconds = (timeline[-1].t + 1) if timeline else 1
    by_t = {s.t: s for s in timeline}
    row = [by_t.get(t) for t in range(seconds)]
    want_vus, want_rate = intended(profile, seconds)
    lines = [
        ChartSeries("requests/s", "throughput", [s.requests if s else 0 for s in row]),
        ChartSeries("VUs", "throughput", [s.vus if s else 0 for s in row]),
    ]
    if any(want_vus):
        lines.append(ChartSeries("intended VUs", "throughput", list(want_vus), dashed=True))
    if any(want_rate):
        lines.append(
            ChartSeries("intended iterations/s", "throughput", list(want_rate), dashed=True)
        )
    lines += [
        ChartSeries("p50", "latency", [s.p50 if s else None for s in row]),
        ChartSeries("p95", "latency", [s.p95 if s else None for s in row]),
        ChartSeries("p99", "latency", [s.p99 if s else None for s in row]),
    ]
    if any(s and s.p99_corrected is not None for s in row):
        corrected = [s.p99_corrected if s else None for s in row]
        lines.append(ChartSeries("p99 from intended start", "latency", corrected, dashed=True))
    return lines


def render(timeline: Sequence[Second], profile: Profile) -> str:
    """The chart as an SVG document."""
    record = LoadRecord(profile.name, profile.time_scale, 0.0, series=series(timeline, profile))
    return str(load_chart(record))
