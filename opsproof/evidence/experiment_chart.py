"""A chaos experiment's timeline as inline SVG, like the DR drill's: how long the fault was in
place, how long the steady state was lost (the outage users saw), and how long recovery took
after the revert — on one axis from the injection, so "recovered 2.1 s after the revert" is
never read as "down for 2.1 s"."""

from markupsafe import Markup, escape

from opsproof.evidence import formatting
from opsproof.evidence.records import ExperimentRecord

_WIDTH = 640
_LABEL_W = 84
_VALUE_W = 190
"""A column of its own for each row's figure, so no text ever overlaps a bar."""
_TOP = 24
_ROW_H = 22
_BOTTOM = 20
_INK = "#1f2933"
_MUTED = "#7b8794"
_FAULT = "#d97706"
_OUTAGE = "#dc2626"
_RECOVERY = "#16a34a"
_BY = {"revert": "opsproof's revert", "supervisor": "the supervisor", "service": "the service"}


def _s(value: float) -> str:
    return formatting.seconds(value)


def experiment_timeline(experiment: ExperimentRecord) -> Markup | None:
    """None when nothing was injected: there is no timeline to draw."""
    e = experiment
    if e.injected_offset_s is None or e.reverted_offset_s is None:
        return None
    origin = e.injected_offset_s
    reverted = e.reverted_offset_s - origin
    outage_start = None if e.outage_offset_s is None else e.outage_offset_s - origin
    recovered = None if e.recovery_s is None else reverted + e.recovery_s
    observed = reverted + (e.recovery_s if e.recovery_s is not None else e.recovery_target_s or 0)
    outage_end = None
    if outage_start is not None:
        outage_end = outage_start + e.outage_s if e.outage_s is not None else observed
    span = max(reverted, observed, outage_end or 0.0, e.time_to_impact_s or 0.0) or 1.0
    inner_w = _WIDTH - _LABEL_W - _VALUE_W - 8
    values_x = _WIDTH - _VALUE_W
    height = _TOP + 3 * _ROW_H + _BOTTOM

    def x(at: float) -> float:
        return _LABEL_W + inner_w * at / (span * 1.04)

    by = f"; outage ended by {_BY[e.restored_by]}" if e.restored_by else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" role="img" '
        f'aria-label="timeline of {escape(e.name)}">',
        f'<text x="0" y="15" font-size="12" fill="{_INK}">Timeline from the injection{by}</text>',
    ]
    rows = [
        ("fault held", 0.0, reverted, _FAULT, f"held {_s(reverted)}", False),
        _outage_row(e, outage_start, outage_end),
        (
            "recovery",
            reverted,
            recovered if recovered is not None else observed,
            _RECOVERY if recovered is not None else _OUTAGE,
            f"{_s(e.recovery_s)} after the revert" if e.recovery_s is not None
            else "not recovered",
            recovered is None,
        ),
    ]  # fmt: skip
    for index, (label, start, end, colour, text, faint) in enumerate(rows):
        y = _TOP + index * _ROW_H
        parts += [
            f'<text x="0" y="{y + 14}" font-size="12" fill="{_INK}">{label}</text>',
            f'<text x="{values_x}" y="{y + 14}" font-size="11" fill="{_MUTED}">'
            f"{escape(text)}</text>",
        ]
        if start is None or end is None:
            continue
        left, width = x(start), max(x(end) - x(start), 2.0)
        opacity = ' fill-opacity="0.35"' if faint else ""
        parts.append(
            f'<rect x="{left:.1f}" y="{y + 4}" width="{width:.1f}" height="{_ROW_H - 8}" rx="2" '
            f'fill="{colour}"{opacity}><title>{escape(label)}: {escape(text)}</title></rect>'
        )
    if e.time_to_impact_s is not None:
        at = x(e.time_to_impact_s)
        parts.append(
            f'<line x1="{at:.1f}" y1="{_TOP}" x2="{at:.1f}" y2="{_TOP + 3 * _ROW_H}" '
            f'stroke="{_INK}" stroke-dasharray="3 2"><title>first degradation observed '
            f"{_s(e.time_to_impact_s)} after the injection</title></line>"
        )
    axis_y = _TOP + 3 * _ROW_H + 14
    parts += [
        f'<text x="{x(0):.1f}" y="{axis_y}" font-size="10" fill="{_MUTED}">0 s</text>',
        f'<text x="{x(span * 1.04):.1f}" y="{axis_y}" font-size="10" text-anchor="end" '
        f'fill="{_MUTED}">{_s(span)}</text>',
        "</svg>",
    ]
    return Markup("".join(parts))


def _outage_row(
    e: ExperimentRecord, start: float | None, end: float | None
) -> tuple[str, float | None, float | None, str, str, bool]:
    if start is None:
        return ("outage", None, None, _OUTAGE, "none: every steady-state check passed", False)
    if e.outage_s is None:
        return ("outage", start, end, _OUTAGE, "not seen to end", True)
    allowed = "" if e.outage_allowed is not False else " (not allowed)"
    return ("outage", start, end, _OUTAGE, f"{_s(e.outage_s)}{allowed}", False)
