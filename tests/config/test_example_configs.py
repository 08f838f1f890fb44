"""The shipped example configs load with the loader, given their variables."""

from pathlib import Path

import pytest

from opsproof.config.loader import environment_names, load_environment
from opsproof.config.models import HttpService, PostgresService
from opsproof.errors import ConfigError
from opsproof.runtimes.launched import StackState

COMPOSE = Path(__file__).parents[2] / "examples" / "compose-stack.yaml"

ENVIRON = {
    "staging": {
        "STAGING_HOST": "staging.example.com",
        "STAGING_API_TOKEN": "staging-token",
        "STAGING_REDIS_PASSWORD": "staging-redis-pw",
        "STAGING_DB_PASSWORD": "staging-db-pw",
    },
    "production": {
        "PROD_HOST": "app.example.com",
        "PROD_REPLICA_HOST": "replica.example.com",
        "PROD_API_TOKEN": "prod-token",
        "PROD_REDIS_PASSWORD": "prod-redis-pw",
        "PROD_DB_PASSWORD": "prod-db-pw",
    },
}


def test_compose_example_declares_staging_and_production() -> None:
    assert environment_names(COMPOSE) == ["staging", "production"]


@pytest.mark.parametrize("name", ["staging", "production"])
def test_compose_example_loads(name: str) -> None:
    # only this environment's variables: the other environment is not interpolated
    loaded = load_environment(COMPOSE, name, environ=ENVIRON[name])
    env = loaded.environment

    assert set(env.services) == {
        "nginx",
        "api",
        "worker",
        "redis",
        "postgres",
        "prometheus",
        "host",
    }
    nginx = env.services_of(HttpService)["nginx"]
    assert nginx.url.startswith("https://") and nginx.tls is not None and nginx.tls.min_days >= 21
    assert [step.name for step in env.smoke] == [
        "health through nginx",
        "render returns a PNG",
        "create a job",
    ]
    assert env.smoke[1].expect.signature == "png"
    slo = env.slo
    assert (slo.latency_p95, slo.latency_p99, slo.error_rate) == (0.5, 1.0, 0.01)
    assert (slo.rto, slo.rpo, env.convergence.timeout) == (900.0, 900.0, 60.0)

    secrets = {value for key, value in ENVIRON[name].items() if not key.endswith("HOST")}
    assert secrets <= loaded.secrets
    assert not any(host in loaded.secrets for host in ("staging.example.com", "app.example.com"))


def test_compose_example_production_forbids_faults_and_load() -> None:
    production = load_environment(COMPOSE, "production", environ=ENVIRON["production"]).environment
    assert (production.chaos, production.load) == ("forbidden", "forbidden")
    assert production.services_of(PostgresService)["postgres"].replica_dsn is not None


def test_compose_example_names_every_missing_secret() -> None:
    with pytest.raises(ConfigError) as caught:
        load_environment(COMPOSE, "staging", environ={})
    missing = {"STAGING_HOST", "STAGING_API_TOKEN", "STAGING_REDIS_PASSWORD", "STAGING_DB_PASSWORD"}
    assert all(f"export {name}=..." in str(caught.value) for name in missing)


def test_chaos_under_load_example_loads() -> None:
    example = COMPOSE.parent / "chaos-under-load.yaml"
    values = {"api.url": "https://127.0.0.1:1", "tls.ca_file": __file__,
              "redis.url": "redis://127.0.0.1:1/0"}  # fmt: skip
    state = StackState(root="/nonexistent", started_at="", components={}, values=values)
    loaded = load_environment(example, "reference", stack=lambda: state)
    plan = loaded.environment.chaos_plan
    assert plan is not None
    [experiment] = plan.experiments
    assert experiment.load is not None and experiment.expect[0].flow is not None
    assert (example.parent / experiment.load.profile).is_file()
