"""``opsproof init --from``: the shipped compose file and a typical web app's become configs that
validate as written, load once their variables are set, and mark every guess."""

from pathlib import Path

import pytest
import yaml

from opsproof.config.loader import load_environment
from tests.scaffold.commands import FIXTURE_COMPOSE, WEBAPP_COMPOSE, generate, opsproof

FIXTURE_VALUES = {
    "REDIS_PORT": "16379", "POSTGRES_PORT": "15432", "API_PORT": "18000", "NGINX_PORT": "18443",
    "OPSPROOF_POSTGRES_PASSWORD": "s3cret-pw", "NGINX_CA_FILE": "/etc/ssl/ca.pem",
}  # fmt: skip
WEBAPP_VALUES = {"POSTGRES_PASSWORD": "s3cret-pw", "NGINX_CA_FILE": "/etc/ssl/ca.pem"}


@pytest.mark.parametrize(
    ("compose", "values"),
    [(FIXTURE_COMPOSE, FIXTURE_VALUES), (WEBAPP_COMPOSE, WEBAPP_VALUES)],
    ids=["fixture", "webapp"],
)
def test_the_config_validates_as_written_and_loads_once_its_variables_are_set(
    compose: Path, values: dict[str, str], tmp_path: Path
) -> None:
    config = generate(compose, tmp_path / "opsproof.yaml")

    as_written = opsproof("config", "check", "--config", str(config))
    assert as_written.returncode == 0, as_written.stdout + as_written.stderr
    unset = opsproof("config", "check", "--config", str(config), "--env", "staging")
    assert unset.returncode == 2
    lines = unset.stdout.splitlines()
    named = {line.partition(" is not set")[0].rpartition(" ")[2] for line in lines}
    assert named == {f"${{{name}}}" for name in values if not name.endswith("_PORT")}
    assert all(line.startswith(f"{config}:") for line in lines)
    filled = opsproof("config", "check", "--config", str(config), "--env", "staging", env=values)
    assert filled.returncode == 0, filled.stdout + filled.stderr
    assert "still marked '# GUESS:'" in filled.stderr


def test_the_reference_compose_file_becomes_its_services(tmp_path: Path) -> None:
    config = generate(FIXTURE_COMPOSE, tmp_path / "opsproof.yaml")

    loaded = load_environment(config, "staging", environ=FIXTURE_VALUES)
    services = loaded.environment.services
    assert sorted(services) == ["api", "nginx", "postgres", "redis", "worker"]
    api, nginx = services["api"], services["nginx"]
    redis, postgres = services["redis"], services["postgres"]
    kinds = {name: service.kind for name, service in services.items()}
    assert kinds == {
        "api": "http", "nginx": "http", "redis": "redis", "postgres": "postgres",
        "worker": "process",  # no port, no HTTP health check: alive through its container
    }  # fmt: skip
    assert (api.url, api.health and api.health.path) == ("http://127.0.0.1:18000", "/health")
    assert nginx.url == "https://127.0.0.1:18443" and str(nginx.ca_file) == "/etc/ssl/ca.pem"
    assert redis.url == "redis://127.0.0.1:16379/0"
    assert redis.expect_eviction_policy == "allkeys-lru"  # from its command line
    # the DSN the api is given, pointed at the published port, the password a variable
    assert postgres.dsn == "postgresql://opsproof:s3cret-pw@127.0.0.1:15432/opsproof"
    assert "s3cret-pw" in loaded.secrets
    for name, service in services.items():  # compose's container_name
        runtime = getattr(service, "runtime", None)
        assert runtime is not None and runtime.docker is not None
        assert runtime.docker.container == f"opsproof-{name}"
    env = loaded.environment
    assert env.chaos == "forbidden"
    assert env.chaos_plan is not None
    assert (env.chaos_plan.may_hit, env.chaos_plan.steady_state) == (["redis"], ["api"])
    (experiment,) = env.chaos_plan.experiments
    assert (experiment.fault.action, experiment.fault.service) == ("kill", "redis")
    assert "GUESS: confirm the kind (no port and no HTTP health check: a worker?)" in (
        config.read_text()
    )


def test_every_guess_is_marked_above_its_line(tmp_path: Path) -> None:
    """Each value opsproof could not read off the compose file is preceded by a GUESS comment:
    the web app's container names (compose's default naming), URLs (where opsproof runs),
    nginx's https and health path."""
    text = generate(WEBAPP_COMPOSE, tmp_path / "opsproof.yaml").read_text()
    lines = text.splitlines()

    def comments_above(fragment: str) -> list[str]:
        index = next(i for i, line in enumerate(lines) if fragment in line)
        above = []
        while lines[index - 1].lstrip().startswith("#"):
            index -= 1
            above.insert(0, lines[index].strip())
        return above

    guessed = {
        "container: shop-web-1": "GUESS: confirm the container name",
        "url: http://127.0.0.1:${WEB_PORT:-8000}": "GUESS: confirm opsproof reaches it",
        "url: https://127.0.0.1:${NGINX_PORT:-443}": "GUESS: confirm https",
        "ca_file: ${NGINX_CA_FILE}": "GUESS: a private or self-signed CA",
        "expect_role: master": "GUESS: confirm it is a master",
        "experiments:": "GUESS: confirm web depends on cache",
    }
    for fragment, mark in guessed.items():
        assert any(mark in comment for comment in comments_above(fragment)), fragment
    # read off the compose file, not guessed: the health path its health check requests
    assert not any("GUESS" in comment for comment in comments_above("health: {path: /health}"))
    # the password compose interpolates stays a variable; user and database keep their defaults
    assert (
        "dsn: postgresql://${POSTGRES_USER:-shop}:${POSTGRES_PASSWORD}@127.0.0.1:${DB_PORT:-5432}"
        "/${POSTGRES_DB:-shop}" in text
    )


def test_a_password_written_in_compose_becomes_a_variable(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  db:\n    image: postgres:16\n    ports: ['5433:5432']\n"
        "    environment: {POSTGRES_PASSWORD: hunter2, POSTGRES_USER: app}\n"
    )
    text = generate(compose, tmp_path / "opsproof.yaml").read_text()
    assert "hunter2" not in text
    assert "dsn: postgresql://app:${DB_PASSWORD}@127.0.0.1:${DB_PORT:-5433}/app" in text


def test_what_yaml_1_1_would_misread_is_quoted(tmp_path: Path) -> None:
    """A service named ``on`` (a boolean to PyYAML), a health path with ``?`` on one line, an
    IPv6 address in a URL: the file reads back as written, and validates."""
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  'on':\n    image: nginx\n    container_name: 'no'\n"
        "    ports: ['[::1]:8080:80']\n"
        "    healthcheck: {test: 'wget -qO- http://localhost:80/ping?x=1 || exit 1'}\n"
    )
    config = generate(compose, tmp_path / "opsproof.yaml")
    service = yaml.safe_load(config.read_text())["environments"]["staging"]["services"]["on"]
    assert service["runtime"] == {"docker": {"container": "no"}}
    assert service["health"] == {"path": "/ping?x=1"}
    assert service["url"] == "http://[::1]:${ON_PORT:-8080}"
    assert opsproof("config", "check", "--config", str(config)).returncode == 0


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    existing = tmp_path / "opsproof.yaml"
    existing.write_text("mine\n")

    refused = opsproof("init", "--from", str(FIXTURE_COMPOSE), "--output", str(existing))
    assert refused.returncode == 2
    assert refused.stderr == (
        f"opsproof: {existing} exists; pass --force to replace it, or --output another file "
        "(- prints it)\n"
    )
    assert existing.read_text() == "mine\n"
    generate(FIXTURE_COMPOSE, existing, "--force")
    assert existing.read_text().startswith("# opsproof config written by")
    printed = opsproof("init", "--from", str(FIXTURE_COMPOSE), "--output", "-")
    assert printed.returncode == 0 and printed.stdout.startswith("# opsproof config written by")


def test_a_broken_compose_file_is_named_with_its_line(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text("services:\n  web:\n    ports: ['1:2:3:4']\n")
    result = opsproof("init", "--from", str(compose), "--output", str(tmp_path / "out.yaml"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"opsproof: {compose}:3:13: services.web.ports[0]: ")
    assert not (tmp_path / "out.yaml").exists()


def test_a_reference_opsproof_cannot_express_is_said_where_it_is_used(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: nginx\n    container_name: web${SUFFIX:+-blue}\n"
        "    ports: ['${WEB_PORT-8080}:80']\n"
    )
    lines = generate(compose, tmp_path / "opsproof.yaml").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if 'container: "web${SUFFIX}"' in line)
    assert "${SUFFIX:+-blue} has no opsproof form; written as ${SUFFIX}" in lines[at - 1]
    assert any("url: http://127.0.0.1:${WEB_PORT:-8080}" in line for line in lines)
