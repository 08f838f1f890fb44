"""A load run's chart as inline SVG: requests per second and VUs (with what the profile
intended) above, latency percentiles below. Written by hand: a few dozen lines instead of a
plotting library and its native dependencies; every text from the record is escaped."""

from markupsafe import Markup, escape

from opsproof.evidence.records import ChartSeries, LoadRecord

WIDTH, PANEL, LEFT, RIGHT, TOP = 860, 220, 60, 60, 40
COLOURS = {
    "requests/s": "#1f77b4",
    "VUs": "#2ca02c",
    "intended VUs": "#2ca02c",
    "intended iterations/s": "#1f77b4",
    "p50": "#9467bd",
    "p95": "#ff7f0e",
    "p99": "#d62728",
    "p99 from intended start": "#d62728",
    "baseline p95": "#ff7f0e",
}
OTHER_COLOUR = "#7f7f7f"
UNITS = {"throughput": "per second", "latency": "latency (ms)"}


def load_chart(record: LoadRecord) -> Markup:
    """The record's series, one panel each for throughput and latency."""
    seconds = max((len(s.values) for s in record.series), default=1) or 1
    height = TOP + 2 * (PANEL + 50) + 10
    title = f"{record.profile} (time scale {record.time_scale:g})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{LEFT}" y="20" font-size="14">{escape(title)}</text>',
    ]
    for number, panel in enumerate(("throughput", "latency")):
        series = [s for s in record.series if s.panel == panel]
        parts.append(_panel(series, seconds, TOP + number * (PANEL + 50), UNITS[panel]))
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _panel(series: list[ChartSeries], seconds: int, top: int, unit: str) -> str:
    values = [v for s in series for v in s.values if v is not None]
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
    for number, line in enumerate(series):
        points = line.values
        path = " ".join(
            f"{'M' if i == 0 or points[i - 1] is None else 'L'}{x(i):.1f},{y(v):.1f}"
            for i, v in enumerate(points)
            if v is not None
        )
        colour = COLOURS.get(line.label, OTHER_COLOUR)
        dash = ' stroke-dasharray="5,4"' if line.dashed else ""
        out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"{dash}/>')
        lx = LEFT + 10 + 150 * number
        out.append(
            f'<line x1="{lx}" x2="{lx + 18}" y1="{top + PANEL + 30}" y2="{top + PANEL + 30}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{lx + 22}" y="{top + PANEL + 34}">{escape(line.label)}</text>'
        )
    return "\n".join(out)


def _nice(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** (len(str(int(value))) - 1)
    return next(float(m * power) for m in (1, 2, 5, 10) if m * power >= value)
