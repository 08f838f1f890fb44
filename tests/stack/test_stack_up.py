"""A started stack: every component alive and answering, the recorded values complete."""

import stat
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import stack_status, start_stack
from opsproof.stack.readiness import CHECKS

pytestmark = pytest.mark.stack

VALUE_KEYS = {
    "root", "state_file", "api.url", "api.direct_url", "nginx.port", "api.port",
    "tls.ca_file", "tls.cert_file", "tls.key_file", "tls.hostname",
    "redis.port", "redis.url", "postgres.port", "postgres.user", "postgres.password",
    "postgres.database", "postgres.dsn", "postgres.data_dir", "redis.data_dir",
}  # fmt: skip


def test_every_component_is_alive_and_answers(
    reference_stack: StackState, reference_stack_dir: Path
) -> None:
    status = stack_status(reference_stack_dir)
    assert status is not None and status.running
    assert [c.name for c in status.components] == [
        *("redis", "postgres", "api", "worker", "nginx"),
        *("redis-exporter", "node-exporter", "alertmanager", "prometheus", "postgres-exporter"),
    ]
    state = StackState.load(reference_stack_dir)
    assert state is not None
    for name, component in state.components.items():
        assert CHECKS[name](state, component) is None, name


def test_components_answer_their_own_clients(reference_stack: StackState) -> None:
    values = reference_stack.values
    with redis.Redis.from_url(values["redis.url"], socket_timeout=2) as client:
        assert client.ping()
    with psycopg.connect(values["postgres.dsn"], connect_timeout=2) as conn:
        assert conn.execute("SELECT count(*) FROM jobs").fetchone() is not None
    direct = httpx.get(values["api.direct_url"] + "/health", timeout=2, trust_env=False)
    assert direct.json()["status"] == "ok"


def test_values_are_complete_and_consistent(reference_stack: StackState) -> None:
    values = reference_stack.values
    assert not VALUE_KEYS - values.keys()
    assert values["api.url"] == f"https://127.0.0.1:{values['nginx.port']}"
    assert values["api.direct_url"] == f"http://127.0.0.1:{values['api.port']}"
    assert values["tls.hostname"] == "localhost"
    assert values["postgres.dsn"] == (
        f"postgresql://opsproof:{values['postgres.password']}"
        f"@127.0.0.1:{values['postgres.port']}/opsproof"
    )
    assert values["redis.url"] == f"redis://127.0.0.1:{values['redis.port']}/0"
    assert values["postgres.password"] in reference_stack.secrets
    for private in (values["state_file"], values["tls.key_file"]):
        assert stat.S_IMODE(Path(private).stat().st_mode) == 0o600, private


def test_second_start_returns_the_running_stack(
    reference_stack: StackState, reference_stack_dir: Path
) -> None:
    before = StackState.load(reference_stack_dir)
    assert before is not None
    again, started = start_stack(reference_stack_dir)
    assert not started
    assert again.root == before.root
    assert {n: c.pid for n, c in again.components.items()} == {
        n: c.pid for n, c in before.components.items()
    }
