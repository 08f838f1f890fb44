"""Real servers for the backup tests: Redis masters (DEBUG allowed or not, as in production)
and a PostgreSQL source cluster with a small shop database, all on 127.0.0.1 or Unix sockets."""

import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis

from opsproof.backup.postgres.database import Database
from opsproof.backup.postgres.scratch import scratch_cluster
from opsproof.backup.redis.client import Endpoint
from opsproof.backup.tools import redis_tool
from opsproof.support.ports import free_ports

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0

SHOP = """
CREATE ROLE reporting NOLOGIN;
CREATE ROLE app LOGIN IN ROLE reporting;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, mood mood,
                        joined timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers,
                     total numeric(10, 2), items jsonb, placed timestamptz);
CREATE TABLE events (kind text, payload bytea, at double precision);
CREATE TABLE notes (id int PRIMARY KEY, doc json, spot point);  -- no hash function for json
CREATE INDEX orders_customer_idx ON orders (customer);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW.placed := coalesce(NEW.placed, now()); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION touch();
GRANT SELECT ON orders, big_orders TO reporting;
GRANT INSERT, SELECT ON customers TO app;
INSERT INTO customers (name, mood)
  SELECT 'customer ' || g, (ARRAY['happy', 'sad'])[1 + g % 2]::mood FROM generate_series(1, 300) g;
INSERT INTO orders (customer, total, items, placed)
  SELECT 1 + g % 300, g * 1.25, jsonb_build_object('sku', g, 'qty', g % 7),
         '2026-01-01T00:00:00Z'::timestamptz + g * interval '1 minute'
  FROM generate_series(1, 2000) g;
-- no primary key, and duplicate rows: the content hash must count both
INSERT INTO events VALUES ('click', '\\x00ff', 0.1), ('click', '\\x00ff', 0.1),
                          ('view', NULL, 1e-7);
INSERT INTO notes VALUES (1, '{"b": 1, "a": [1, 2]}', '(1.5, -2)'), (2, 'null', NULL);
"""


@pytest.fixture
def redis_master(tmp_path: Path) -> Iterator[Callable[[str], Endpoint]]:
    """``redis_master(debug)`` starts an empty master on a free port; ``debug`` is its
    enable-debug-command setting (``no`` is the Redis 7 default)."""
    with ExitStack() as servers:

        def start(debug: str) -> Endpoint:
            (port,) = free_ports(1)
            workdir = tmp_path / f"redis-{port}"
            workdir.mkdir()
            command = [
                redis_tool("redis-server"),
                *("--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir)),
                *("--save", "", "--appendonly", "no", "--enable-debug-command", debug),
            ]
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            servers.callback(_stop, process)
            endpoint = Endpoint(f"redis://127.0.0.1:{port}/0", timeout=2.0)
            _wait_ping(endpoint)
            return endpoint

        yield start


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(STOP_TIMEOUT)


def _wait_ping(endpoint: Endpoint) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with endpoint.client() as client:
                client.ping()
            return
        except redis.ConnectionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(0.02)


@pytest.fixture(scope="session")
def shop() -> Iterator[Database]:
    """A source cluster holding database ``shop``: tables with and without primary keys,
    sequences, an enum, a view, a trigger function, two roles and their grants."""
    with scratch_cluster(timeout=60.0) as cluster:
        with cluster.database().connect() as conn:
            conn.execute("CREATE DATABASE shop")
        database = cluster.database("shop")
        with database.connect() as conn:
            conn.execute(SHOP)
        yield database
