"""An SVG chart of a run: requests per second and VUs (with what the profile intended) above,
latency percentiles below. Inline SVG written by hand: a few dozen lines instead of a plotting
library and its native dependencies in the pytest process."""

from collections.abc import Sequence
from html import escape

from opsproof.load.options import ArrivalRate, ConstantVus, RampingVus
from opsproof.load.profile import Profile
from opsproof.load.result import Second
from opsproof.load.schedules import ArrivalSchedule, vus_at

WIDTH, PANEL, LEFT, RIGHT, TOP = 860, 220, 60, 60, 40
Series = tuple[str, str, Sequence[float | None], bool]  # label, colour, values, dashed


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


def render(timeline: Sequence[Second], profile: Profile, title: str) -> str:
    seconds = (timeline[-1].t + 1) if timeline else 1
    by_t = {s.t: s for s in timeline}
    row = [by_t.get(t) for t in range(seconds)]
    want_vus, want_rate = intended(profile, seconds)
    throughput: list[Series] = [
        ("requests/s", "#1f77b4", [s.requests if s else 0 for s in row], False),
        ("VUs", "#2ca02c", [s.vus if s else 0 for s in row], False),
    ]
    if any(want_vus):
        throughput.append(("intended VUs", "#2ca02c", want_vus, True))
    if any(want_rate):
        throughput.append(("intended iterations/s", "#1f77b4", want_rate, True))
    latency: list[Series] = [
        ("p50", "#9467bd", [s.p50 if s else None for s in row], False),
        ("p95", "#ff7f0e", [s.p95 if s else None for s in row], False),
        ("p99", "#d62728", [s.p99 if s else None for s in row], False),
    ]
    if any(s and s.p99_corrected is not None for s in row):
        latency.append(
            (
                "p99 from intended start",
                "#d62728",
                [s.p99_corrected if s else None for s in row],
                True,
            )
        )
    height = TOP + 2 * (PANEL + 50) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{LEFT}" y="20" font-size="14">{escape(title)}</text>',
        _panel(throughput, seconds, TOP, "per second"),
        _panel(latency, seconds, TOP + PANEL + 50, "latency (ms)"),
        "</svg>",
    ]
    return "\n".join(parts)


def _panel(series: list[Series], seconds: int, top: int, unit: str) -> str:
    values = [v for _, _, vs, _ in series for v in vs if v is not None]
    high = _nice(max(values, default=1.0))
    inner = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return LEFT + inner * (t + 0.5) / max(seconds, 1)

    def y(v: float) -> float:
        return top + PANEL - PANEL * v / high

    out = [
        f'<rect x="{LEFT}" y="{top}" width="{inner}" height="{PANEL}" fill="none" stroke="#999"/>'
    ]
    for step in range(6):
        value = high * step / 5
        out.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>'
            f'<line x1="{LEFT}" x2="{LEFT + inner}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#eee"/>'
        )
    for step in range(6):
        t = (seconds - 1) * step / 5
        out.append(
            f'<text x="{x(t):.1f}" y="{top + PANEL + 14}" text-anchor="middle">{t:.0f}s</text>'
        )
    out.append(f'<text x="{LEFT}" y="{top - 6}">{escape(unit)}</text>')
    for number, (label, colour, points, dashed) in enumerate(series):
        path = " ".join(
            f"{'M' if i == 0 or points[i - 1] is None else 'L'}{x(i):.1f},{y(v):.1f}"
            for i, v in enumerate(points)
            if v is not None
        )
        dash = ' stroke-dasharray="5,4"' if dashed else ""
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>')
        lx = LEFT + 10 + 150 * number
        out.append(
            f'<line x1="{lx}" x2="{lx + 18}" y1="{top + PANEL + 30}" y2="{top + PANEL + 30}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{lx + 22}" y="{top + PANEL + 34}">{escape(label)}</text>'
        )
    return "\n".join(out)


def _nice(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** (len(str(int(value))) - 1)
    return next(float(m * power) for m in (1, 2, 5, 10) if m * power >= value)
