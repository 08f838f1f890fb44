"""Loading valid files: values, interpolation, stack references and collected secrets."""

from typing import TYPE_CHECKING

import pytest

from opsproof.config.loader import LoadedEnvironment, environment_names, load_environment
from opsproof.config.models import HostService, HttpService, PostgresService, RedisService
from opsproof.errors import ConfigError
from opsproof.runtimes.launched import StackState

if TYPE_CHECKING:
    from tests.config.conftest import ConfigFiles


def a_stack(values: dict[str, str], secrets: list[str] | None = None) -> StackState:
    return StackState("stack-root", "now", components={}, values=values, secrets=secrets or [])


def test_valid_file_loads_with_parsed_values(cfg: "ConfigFiles") -> None:
    path = cfg.write(cfg.valid)
    loaded = load_environment(path, "staging", environ=cfg.environ)

    assert isinstance(loaded, LoadedEnvironment)
    assert (loaded.name, loaded.source) == ("staging", path)
    env = loaded.environment
    api = env.services_of(HttpService)["api"]
    assert api.url == "http://127.0.0.1:8000"
    assert api.timeout == 5.0
    assert api.deep_health is not None and api.deep_health.expect_json == {"checks.redis": "ok"}
    assert env.services_of(PostgresService)["db"].long_query_seconds == 300.0
    assert env.services_of(HostService)["box"].private_ports == [6379, 5432]
    assert env.smoke[0].expect.json_fields == {"status": "ok"}
    assert env.smoke[0].expect.max_latency == 0.5
    assert (env.slo.latency_p95, env.slo.rto, env.convergence.timeout) == (0.5, 900.0, 60.0)
    assert (env.chaos, env.load) == ("allowed", "forbidden")


def test_environment_names_in_file_order(cfg: "ConfigFiles") -> None:
    assert environment_names(cfg.write(cfg.valid)) == ["staging", "production"]


def test_secrets_are_collected(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace(
        "url: http://127.0.0.1:9090", "url: http://admin:p%40ss@127.0.0.1:9090"
    )
    loaded = load_environment(cfg.write(text), "staging", environ=cfg.environ)

    # API_KEY, REDIS_PASSWORD and DB_PASS by name; the header value; URL passwords, raw and decoded
    assert loaded.secrets == {"key-123", "redis-pw", "db-pw", "p%40ss", "p@ss"}


def test_smoke_headers_with_secret_names_are_secrets(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace(
        "          path: /health\n        expect:",
        "          path: /health\n"
        "          headers: {Authorization: Bearer abc, Accept: text/plain}\n"
        "        expect:",
    )
    loaded = load_environment(cfg.write(text), "staging", environ=cfg.environ)

    assert "Bearer abc" in loaded.secrets
    assert "text/plain" not in loaded.secrets


def test_only_the_selected_environment_is_interpolated(cfg: "ConfigFiles") -> None:
    # production's ${PROD_API_URL} is unset: staging still loads, production names it
    path = cfg.write(cfg.valid)
    load_environment(path, "staging", environ=cfg.environ)
    with pytest.raises(ConfigError, match=r"PROD_API_URL"):
        load_environment(path, "production", environ=cfg.environ)


def test_interpolation_defaults_escapes_and_verbatim_values(cfg: "ConfigFiles") -> None:
    path = cfg.write(
        """\
        environments:
          e:
            description: "$${literal} $$HOME ${HI:-hello} ${EMPTY:-empty} [${SET_EMPTY}] ${ODD}"
            services: {}
        """
    )
    environ = {"EMPTY": "", "SET_EMPTY": "", "ODD": "${NOT_AGAIN} $$"}
    loaded = load_environment(path, "e", environ=environ)

    assert loaded.environment.description == "${literal} $HOME hello empty [] ${NOT_AGAIN} $$"


def test_environ_defaults_to_os_environ(
    cfg: "ConfigFiles", monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSPROOF_TEST_DESCRIPTION", "from the process")
    path = cfg.write(
        """\
        environments:
          e: {description: "${OPSPROOF_TEST_DESCRIPTION}", services: {}}
        """
    )
    assert load_environment(path, "e").environment.description == "from the process"


def test_stack_values_are_coerced_and_its_secrets_collected(cfg: "ConfigFiles") -> None:
    path = cfg.write(
        """\
        environments:
          ref:
            stack: reference
            services:
              cache: {kind: redis, url: "${stack.redis.url}"}
              box:
                kind: host
                private_ports: ["${stack.redis.port}"]
                secret_files: ["${stack.tls.key_file}"]
        """
    )
    calls = []

    def stack() -> StackState:
        calls.append(1)
        values = {
            "redis.url": "redis://:pw@127.0.0.1:6390/0",
            "redis.port": "6390",
            "tls.key_file": "/srv/key.pem",
        }
        return a_stack(values, ["pw"])

    loaded = load_environment(path, "ref", environ={}, stack=stack)

    assert loaded.environment.services_of(RedisService)["cache"].url.endswith(":6390/0")
    assert loaded.environment.services_of(HostService)["box"].private_ports == [6390]
    assert loaded.secrets == {"pw"}  # the stack names its secrets; 'key_file' is only a path
    assert calls == [1]  # read once, however many references


def test_stack_is_not_read_unless_referenced(cfg: "ConfigFiles") -> None:
    def stack() -> StackState | None:
        raise AssertionError("the stack was read without a ${stack.*} reference")

    load_environment(cfg.write(cfg.valid), "staging", environ=cfg.environ, stack=stack)


def test_stack_reference_default_applies_when_stack_is_down(cfg: "ConfigFiles") -> None:
    path = cfg.write(
        """\
        environments:
          e:
            services:
              api: {kind: http, url: "${stack.api.url:-http://127.0.0.1:8000}"}
        """
    )
    loaded = load_environment(path, "e", environ={}, stack=lambda: None)
    assert loaded.environment.services_of(HttpService)["api"].url == "http://127.0.0.1:8000"


def test_yaml_merge_keys_and_anchors(cfg: "ConfigFiles") -> None:
    path = cfg.write(
        """\
        environments:
          staging:
            services:
              api: &api {kind: http, url: "http://staging:8000", timeout: 2s}
            slo: &slo {latency_p95: 500ms, rto: 15m}
          production:
            services:
              api:
                <<: *api
                url: http://production:8000
            slo: *slo
        """
    )
    production = load_environment(path, "production", environ={}).environment
    api = production.services_of(HttpService)["api"]
    assert (api.url, api.timeout) == ("http://production:8000", 2.0)
    assert production.slo.rto == 900.0
