"""PostgreSQL: accepting, below max_connections, no runaway queries, replicas current."""

import pytest

from opsproof.config.models import PostgresService
from opsproof.probes import postgres
from opsproof.targets import ReplicaTarget, Target
from opsproof.verify import Verifier

pytestmark = pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.6")


def test_postgres_connect(postgres_target: Target[PostgresService], verify: Verifier) -> None:
    verify(lambda: postgres.connect(postgres_target.service))


def test_postgres_connections(postgres_target: Target[PostgresService], verify: Verifier) -> None:
    verify(lambda: postgres.connections(postgres_target.service))


def test_postgres_long_queries(postgres_target: Target[PostgresService], verify: Verifier) -> None:
    verify(lambda: postgres.long_queries(postgres_target.service))


def test_postgres_replication_lag(replica_target: ReplicaTarget, verify: Verifier) -> None:
    verify(lambda: postgres.replication_lag(replica_target.service, replica_target.replica_dsn))
