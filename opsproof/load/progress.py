"""Live progress: one line a second per scenario, written by the Locust master, shown by pytest."""

from pydantic import BaseModel


class Progress(BaseModel):
    scenario: str
    t: float
    vus: int
    rps: int
    """Requests completed in the last whole second."""
    requests: int
    errors: float
    """Share of failed requests so far."""
    p95: float | None
    """95th percentile of http_req_duration so far, in ms."""
    dropped: int


def format_progress(line: Progress) -> str:
    p95 = "-" if line.p95 is None else f"{line.p95:.1f} ms"
    return (
        f"load [{line.scenario}] {line.t:6.1f}s  vus {line.vus:4d}  rps {line.rps:5d}  "
        f"p95 {p95:>9}  errors {line.errors:6.2%}  requests {line.requests}"
        + (f"  dropped {line.dropped}" if line.dropped else "")
    )
