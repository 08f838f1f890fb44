"""PostgreSQL probes: reachability, connection headroom, long-running queries, replication lag.

Only client backends count: background workers, WAL senders and the like neither use up
``max_connections`` nor run user queries.
"""

import math
import time
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from opsproof.config.models import PostgresService
from opsproof.errors import Unanswered
from opsproof.probes.result import Figure, Observation
from opsproof.probes.timing import timed
from opsproof.support.failures import describe_error
from opsproof.support.redact import redact_url
from opsproof.support.text import one_line

_CONNECTIONS = """
SELECT count(*) FILTER (WHERE backend_type = 'client backend'),
       current_setting('max_connections')::int
FROM pg_stat_activity
"""

_LONG_QUERIES = """
SELECT pid, extract(epoch FROM clock_timestamp() - query_start)::float8, left(query, 80)
FROM pg_stat_activity
WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
  AND clock_timestamp() - query_start > make_interval(secs => %s)
ORDER BY query_start
"""

# A replica that has replayed all it received is not lagging, however old its last commit.
_REPLICATION_LAG = """
SELECT pg_is_in_recovery(),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END
"""


def _query(dsn: str, timeout: float, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Run one query on a fresh connection bounded by ``timeout``.

    libpq counts ``connect_timeout`` in whole seconds (at least 2); ``statement_timeout``
    bounds the query on the server.
    """
    existing = conninfo_to_dict(dsn).get("options") or ""
    options = f"{existing} -c statement_timeout={max(1, int(timeout * 1000))}".strip()
    try:
        with psycopg.connect(
            dsn, connect_timeout=max(1, math.ceil(timeout)), options=options, autocommit=True
        ) as conn:
            return conn.execute(sql, params or None).fetchall()
    except (psycopg.Error, OSError) as exc:
        why = describe_error(exc, timeout)
        raise Unanswered(f"{redact_url(dsn, keep_query=False)}: {why}") from exc


def _target(service: PostgresService) -> str:
    return redact_url(service.dsn, keep_query=False)


@timed
def connect(service: PostgresService) -> Observation:
    """A connection opens and answers ``SELECT 1``; records the server version."""
    target = _target(service)
    start = time.monotonic()
    try:
        ((one, version),) = _query(
            service.dsn, service.timeout, "SELECT 1, current_setting('server_version')"
        )
    except Unanswered as exc:
        return Observation(False, target, str(exc))
    latency_ms = round((time.monotonic() - start) * 1000, 1)
    figures = {
        "server_version": Figure(str(version)),
        "latency_ms": Figure(latency_ms, "ms"),
    }
    reason = f"{target}: PostgreSQL {version} answered SELECT {one} in {latency_ms:g} ms"
    return Observation(True, target, reason, figures)


@timed
def connections(service: PostgresService) -> Observation:
    """Client connections / max_connections stays at or below ``max_connections_ratio``."""
    target = _target(service)
    try:
        ((used, limit),) = _query(service.dsn, service.timeout, _CONNECTIONS)
    except Unanswered as exc:
        return Observation(False, target, str(exc))
    ratio = used / limit
    allowed = service.max_connections_ratio
    figures = {
        "connections": Figure(used),
        "max_connections": Figure(limit),
        "connections_ratio": Figure(round(ratio, 3), target=f"<= {allowed:g}"),
    }
    reason = f"{target}: {used} of {limit} connections in use ({ratio:.0%})"
    if ratio > allowed:
        return Observation(False, target, f"{reason}, above the {allowed:.0%} limit", figures)
    return Observation(True, target, reason, figures)


@timed
def long_queries(service: PostgresService) -> Observation:
    """No other query has been active longer than ``long_query_seconds``."""
    target = _target(service)
    limit = service.long_query_seconds
    try:
        rows = _query(service.dsn, service.timeout, _LONG_QUERIES, limit)
    except Unanswered as exc:
        return Observation(False, target, str(exc))
    oldest = round(rows[0][1], 1) if rows else 0.0
    figures = {
        "long_queries": Figure(len(rows), target="== 0"),
        "oldest_query_s": Figure(oldest, "s", f"<= {limit:g}"),
    }
    if not rows:
        reason = f"{target}: no query active longer than {limit:g}s"
        return Observation(True, target, reason, figures)
    listed = "; ".join(f"pid {pid} ({age:.1f}s) {one_line(query, 80)}" for pid, age, query in rows)
    reason = f"{target}: {len(rows)} queries active longer than {limit:g}s: {listed}"
    return Observation(False, target, reason, figures)


@timed
def replication_lag(service: PostgresService, replica_dsn: str) -> Observation:
    """The replica at ``replica_dsn`` replays within the service's ``max_replication_lag``."""
    target = redact_url(replica_dsn, keep_query=False)
    try:
        ((in_recovery, lag),) = _query(replica_dsn, service.timeout, _REPLICATION_LAG)
    except Unanswered as exc:
        return Observation(False, target, str(exc))
    if not in_recovery:
        reason = f"{target}: expected a replica in recovery, got a primary (replica_dsn is wrong)"
        return Observation(False, target, reason)
    allowed = service.max_replication_lag
    if lag is None:
        reason = f"{target}: the replica has WAL to replay and has replayed no transaction yet"
        return Observation(False, target, reason)
    figures = {"replication_lag_s": Figure(round(lag, 3), "s", f"<= {allowed:g}")}
    reason = f"{target}: replication lag {lag:.1f}s"
    if lag > allowed:
        return Observation(False, target, f"{reason}, above the {allowed:g}s limit", figures)
    return Observation(True, target, reason, figures)
