"""``opsproof init --from`` against the reference stack as containers: the configs written from
the shipped compose file and from a typical web app's both pass ``opsproof config check`` and
the gate, once a user exports the values a guess left open. The compose files publish fixed
ports; the session's stack listens on free ones, which is what the ``${SERVICE_PORT:-port}``
variables of the generated config are for."""

from collections.abc import Callable
from pathlib import Path
from xml.etree import ElementTree

import pytest

from opsproof.runtimes.launched import StackState
from tests.scaffold.commands import FIXTURE_COMPOSE, WEBAPP_COMPOSE, generate, opsproof


def fixture_values(values: dict[str, str]) -> dict[str, str]:
    return {
        "REDIS_PORT": values["redis.port"],
        "POSTGRES_PORT": values["postgres.port"],
        "API_PORT": values["api.port"],
        "NGINX_PORT": values["nginx.port"],
        "OPSPROOF_POSTGRES_PASSWORD": values["postgres.password"],
        "NGINX_CA_FILE": values["tls.ca_file"],
    }


def webapp_values(values: dict[str, str]) -> dict[str, str]:
    return {
        "CACHE_PORT": values["redis.port"],
        "DB_PORT": values["postgres.port"],
        "WEB_PORT": values["api.port"],
        "NGINX_PORT": values["nginx.port"],
        "POSTGRES_USER": values["postgres.user"],
        "POSTGRES_PASSWORD": values["postgres.password"],
        "POSTGRES_DB": values["postgres.database"],
        "NGINX_CA_FILE": values["tls.ca_file"],
    }


FIXTURE_CONTAINERS = {
    f"opsproof-{name}": name for name in ("api", "worker", "redis", "postgres", "nginx")
}
"""The fixture compose file's container_name of each component."""
WEBAPP_CONTAINERS = {"shop-web-1": "api", "shop-worker-1": "worker", "shop-cache-1": "redis",
                     "shop-db-1": "postgres", "shop-nginx-1": "nginx"}  # fmt: skip
"""compose's <project>-<service>-1 names in the web app's file, and the component each is."""


def confirm_containers(config: Path, guessed: dict[str, str], values: dict[str, str]) -> None:
    """What a user does with each ``GUESS: confirm the container name``: writes the name
    ``docker ps`` shows (here the session stack's, not the compose file's)."""
    text = config.read_text()
    for guess, component in guessed.items():
        text = text.replace(
            f"container: {guess}}}", f"container: {values[component + '.container']}}}"
        )
    config.write_text(text)


@pytest.mark.parametrize(
    ("compose", "fill", "containers", "http"),
    [(FIXTURE_COMPOSE, fixture_values, FIXTURE_CONTAINERS, ["api", "nginx"]),
     (WEBAPP_COMPOSE, webapp_values, WEBAPP_CONTAINERS, ["web", "nginx"])],
    ids=["fixture", "webapp"],
)  # fmt: skip
def test_the_generated_config_passes_check_and_gate(
    docker_stack: StackState,
    tmp_path: Path,
    compose: Path,
    fill: Callable[[dict[str, str]], dict[str, str]],
    containers: dict[str, str],
    http: list[str],
) -> None:
    config = generate(compose, tmp_path / "opsproof.yaml")
    confirm_containers(config, containers, docker_stack.values)
    values = fill(docker_stack.values)
    check = ["config", "check", "--config", str(config), "--state-dir", str(tmp_path / "state")]

    assert opsproof(*check).returncode == 0
    checked = opsproof(*check, "--env", "staging", env=values)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    gate = opsproof(
        "run", "gate", "--config", str(config), "--env", "staging",
        "--state-dir", str(tmp_path / "state"), "--reports-dir", str(tmp_path / "runs"),
        env=values,
    )  # fmt: skip
    assert gate.returncode == 0, gate.stdout + gate.stderr

    junit = ElementTree.parse(next((tmp_path / "runs").glob("*-gate-staging/junit.xml")))
    passed = [
        case.get("name", "")
        for case in junit.iter("testcase")
        if not any(child.tag in ("skipped", "failure", "error") for child in case)
    ]
    liveness = [name for name in passed if name.startswith("test_liveness[")]
    urls = {f"http://127.0.0.1:{docker_stack.values['api.port']}/health",
            f"https://127.0.0.1:{docker_stack.values['nginx.port']}/health"}  # fmt: skip
    assert {name.removeprefix("test_liveness[GET ").rstrip("]") for name in liveness} == urls
    assert len(http) == len(liveness)
    for check_name in ("test_redis_ping", "test_redis_role", "test_redis_eviction_policy",
                       "test_postgres_connect", "test_postgres_connections"):  # fmt: skip
        assert any(name.startswith(f"{check_name}[") for name in passed), check_name


def test_the_starter_chaos_plan_is_checked_then_runs_once_opted_in(
    docker_stack: StackState, tmp_path: Path
) -> None:
    """Opting in to the generated plan: ``config check`` names the compose file's container that
    does not exist on this engine; once the names are the stack's, the plan (kill redis, the api's
    health check as steady state) passes the check and runs, and the stack is whole again."""
    config = generate(FIXTURE_COMPOSE, tmp_path / "opsproof.yaml")
    text = config.read_text().replace("chaos: forbidden", "chaos: allowed")
    config.write_text(text)
    values = fixture_values(docker_stack.values)
    state = ["--state-dir", str(tmp_path / "state")]
    check = ["config", "check", "--config", str(config), "--env", "staging", *state]

    refused = opsproof(*check, env=values)
    assert refused.returncode == 2
    (line,) = refused.stdout.splitlines()
    assert "services.redis.runtime.docker.container: no container 'opsproof-redis'" in line
    confirm_containers(config, FIXTURE_CONTAINERS, docker_stack.values)
    checked = opsproof(*check, env=values)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    chaos = opsproof(
        "run", "chaos", "--config", str(config), "--env", "staging", *state,
        "--reports-dir", str(tmp_path / "runs"), env=values,
    )  # fmt: skip
    assert chaos.returncode == 0, chaos.stdout + chaos.stderr
    assert "1 passed" in chaos.stdout
    gate = opsproof(
        "run", "gate", "--config", str(config), "--env", "staging", *state,
        "--reports-dir", str(tmp_path / "runs"), env=values,
    )  # fmt: skip
    assert gate.returncode == 0, gate.stdout  # redis is back, and everything that needs it
