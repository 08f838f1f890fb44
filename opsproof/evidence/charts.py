"""Charts for report.html as inline SVG: no script, no external asset, readable offline.

Hand-written: two small shapes (a trend line and a phase timeline); chart libraries either need
JavaScript for what they draw or have no timeline.
"""

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

from opsproof.evidence.records import DrillPhase

_WIDTH = 560
_LEFT = 56
_RIGHT = 16
_TOP = 24
_BOTTOM = 22
_INK = "#1f2933"
_MUTED = "#7b8794"
_LINE = "#2563eb"
_PHASE_COLOURS = {"ok": "#16a34a", "failed": "#dc2626", "skipped": "#9ca3af"}


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def trend_chart(title: str, points: Sequence[tuple[str, float]], height: int = 150) -> Markup:
    """Values in run order (oldest left), from zero up; each point names its run on hover."""
    top = max(value for _, value in points) or 1.0
    inner_w = _WIDTH - _LEFT - _RIGHT
    inner_h = height - _TOP - _BOTTOM
    step = inner_w / max(len(points) - 1, 1)

    def xy(index: int, value: float) -> tuple[float, float]:
        return _LEFT + index * step, _TOP + inner_h * (1 - value / (top * 1.1))

    coords = [xy(i, value) for i, (_, value) in enumerate(points)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text x="{_LEFT}" y="15" font-size="13" fill="{_INK}">{escape(title)}</text>',
        f'<line x1="{_LEFT}" y1="{_TOP + inner_h}" x2="{_WIDTH - _RIGHT}" y2="{_TOP + inner_h}" '
        f'stroke="{_MUTED}"/>',
        f'<text x="{_LEFT - 6}" y="{xy(0, top)[1] + 4:.1f}" font-size="11" text-anchor="end" '
        f'fill="{_MUTED}">{_number(top)}</text>',
        f'<text x="{_LEFT - 6}" y="{_TOP + inner_h + 4}" font-size="11" text-anchor="end" '
        f'fill="{_MUTED}">0</text>',
        f'<polyline fill="none" stroke="{_LINE}" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        + '"/>',
    ]
    for (label, value), (x, y) in zip(points, coords, strict=True):
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{_LINE}">'
            f"<title>{escape(label)}: {_number(value)}</title></circle>"
        )
    last_x, last_y = coords[-1]
    parts.append(
        f'<text x="{last_x:.1f}" y="{last_y - 8:.1f}" font-size="11" text-anchor="end" '
        f'fill="{_INK}">{_number(points[-1][1])}</text>'
    )
    first, last = points[0][0], points[-1][0]
    parts += [
        f'<text x="{_LEFT}" y="{height - 5}" font-size="10" fill="{_MUTED}">{escape(first)}</text>',
        f'<text x="{_WIDTH - _RIGHT}" y="{height - 5}" font-size="10" text-anchor="end" '
        f'fill="{_MUTED}">{escape(last)}</text>',
        "</svg>",
    ]
    return Markup("".join(parts))


def _bar_label(left: float, width: float, baseline: float, text: str) -> str:
    """After the bar, or before it when the bar reaches the right edge."""
    after = left + width + 4 + 7 * len(text) < _WIDTH
    x, anchor = (left + width + 4, "start") if after else (left - 4, "end")
    return (
        f'<text x="{x:.1f}" y="{baseline}" font-size="11" text-anchor="{anchor}" '
        f'fill="{_MUTED}">{escape(text)}</text>'
    )


def phase_timeline(phases: Sequence[DrillPhase]) -> Markup:
    """One bar per phase on a shared time axis from the drill's first start to its last end."""
    label_w, row_h = 150, 24
    start = min(p.started_at for p in phases)
    end = max([p.finished_at or p.started_at for p in phases] + [p.started_at for p in phases])
    span = max((end - start).total_seconds(), 1.0)
    inner_w = _WIDTH - label_w - _RIGHT
    height = _TOP + row_h * len(phases) + _BOTTOM

    def x(moment: datetime) -> float:
        return label_w + inner_w * (moment - start).total_seconds() / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" role="img" aria-label="drill timeline">',
        f'<text x="0" y="15" font-size="13" fill="{_INK}">'
        f"Timeline (total {_number(span)} s)</text>",
    ]
    for row, phase in enumerate(phases):
        y = _TOP + row * row_h
        left = x(phase.started_at)
        width = max(x(phase.finished_at) - left, 2.0) if phase.finished_at else 2.0
        took = phase.duration_s()
        took_text = f"{_number(took)} s" if took is not None else "not finished"
        parts += [
            f'<text x="0" y="{y + 15}" font-size="12" fill="{_INK}">{escape(phase.name)}</text>',
            f'<rect x="{left:.1f}" y="{y + 4}" width="{width:.1f}" height="{row_h - 8}" rx="2" '
            f'fill="{_PHASE_COLOURS[phase.outcome]}"><title>{escape(phase.name)}: '
            f"{escape(phase.outcome)}, {took_text}</title></rect>",
            _bar_label(left, width, y + 15, took_text),
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
