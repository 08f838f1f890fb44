"""k6's built-in metric names as opsproof measures them, with their types and tags.

A threshold names one of these; its type decides which aggregation methods apply, exactly as in
k6 (counter: count, rate; gauge: value; rate: rate; trend: avg, min, max, med, p(N)).
"""

from dataclasses import dataclass
from typing import Literal

MetricType = Literal["counter", "gauge", "rate", "trend"]

METHODS: dict[MetricType, tuple[str, ...]] = {
    "counter": ("count", "rate"),
    "gauge": ("value",),
    "rate": ("rate",),
    "trend": ("avg", "min", "max", "med", "p"),
}
"""Aggregation methods each metric type supports (k6's ``supportedAggregationMethods``)."""

REQUEST_TAGS = ("name", "method", "status", "url", "expected_response", "scenario")
ITERATION_TAGS = ("scenario",)
CHECK_TAGS = ("check", "scenario")


@dataclass(frozen=True)
class MetricSpec:
    """One metric: its k6 type, the unit of its values, and the tags its samples carry."""

    name: str
    type: MetricType
    unit: str
    tags: tuple[str, ...]
    description: str


BUILTIN: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("http_reqs", "counter", "", REQUEST_TAGS, "HTTP requests made"),
        MetricSpec("http_req_failed", "rate", "", REQUEST_TAGS, "share of failed requests"),
        MetricSpec("http_req_duration", "trend", "ms", REQUEST_TAGS, "request latency"),
        MetricSpec(
            "http_req_duration_corrected",
            "trend",
            "ms",
            REQUEST_TAGS,
            "latency from the intended start (arrival-rate executors; opsproof extension)",
        ),
        MetricSpec("data_received", "counter", "B", REQUEST_TAGS, "response body bytes"),
        MetricSpec(
            "data_sent", "counter", "B", REQUEST_TAGS, "request bytes written (HTTP, before TLS)"
        ),
        MetricSpec("http_req_sending", "trend", "ms", REQUEST_TAGS, "writing the request"),
        MetricSpec(
            "http_req_waiting", "trend", "ms", REQUEST_TAGS, "request written to first answer"
        ),
        MetricSpec("http_req_receiving", "trend", "ms", REQUEST_TAGS, "reading the answer"),
        MetricSpec("iterations", "counter", "", ITERATION_TAGS, "completed iterations"),
        MetricSpec("iteration_duration", "trend", "ms", ITERATION_TAGS, "iteration time"),
        MetricSpec("dropped_iterations", "counter", "", ITERATION_TAGS, "arrivals with no free VU"),
        MetricSpec("checks", "rate", "", CHECK_TAGS, "share of passed checks"),
        MetricSpec("vus", "gauge", "", (), "active virtual users"),
        MetricSpec("vus_max", "gauge", "", (), "allocated virtual users"),
    )
}

NOT_MEASURED = {
    "http_req_blocked": "opsproof times requests from the first byte written, not pool waits",
    "http_req_connecting": "opsproof times requests on open connections, not TCP connects",
    "http_req_tls_handshaking": "opsproof times requests on open connections, not handshakes",
    "group_duration": "Locust has no k6 groups",
}
"""k6 built-ins a threshold may name but opsproof cannot measure, and why."""
