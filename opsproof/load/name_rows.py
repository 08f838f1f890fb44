"""A run's breakdown as the report's rows, and why its requests failed in words: the runner's
side of ``breakdown.py``, apart so that a Locust worker never imports the evidence model."""

from opsproof.evidence.records import RequestNameRecord
from opsproof.load.breakdown import Breakdown, NameStats


def name_rows(breakdown: Breakdown) -> list[RequestNameRecord]:
    """Every name, most failures first, then most requests."""

    def percentile(stats: NameStats, percent: float) -> float | None:
        trend = stats.duration
        return round(trend.percentile_ms(percent), 3) if trend.count else None

    rows = [
        RequestNameRecord(
            name=name,
            requests=stats.duration.count,
            failures=stats.failures,
            p50_ms=percentile(stats, 50),
            p95_ms=percentile(stats, 95),
            p99_ms=percentile(stats, 99),
            statuses={str(status or "none"): n for status, n in sorted(stats.statuses.items())},
            errors=dict(stats.errors.most_common()),
            examples={kind: stats.examples.get(kind, "") for kind in stats.errors},
        )
        for name, stats in breakdown.names.items()
    ]
    return sorted(rows, key=lambda row: (-row.failures, -row.requests, row.name))


def why_failed(breakdown: Breakdown, name: str | None = None, limit: int = 3) -> str:
    """Why requests (of ``name``, else of every name) failed, in words for a reason:
    ``upload: 39 of 40 failed: status mismatch ×39 (expected status 202, got 429);
    statuses 202 ×1, 429 ×39``; empty when none failed."""
    rows = [r for r in name_rows(breakdown) if r.failures and name in (None, r.name)]
    parts = []
    for row in rows[:limit]:
        kinds = ", ".join(
            f"{kind} ×{times} ({row.examples.get(kind, '')})"
            for kind, times in list(row.errors.items())[:2]
        )
        statuses = ", ".join(f"{status} ×{times}" for status, times in row.statuses.items())
        parts.append(
            f"{row.name}: {row.failures} of {row.requests} failed: {kinds}; statuses {statuses}"
        )
    if len(rows) > limit:
        parts.append(f"{len(rows) - limit} more names with failures in the report")
    return "; ".join(parts)
