"""Every kind of config error names the file, line, column, key and the fix."""

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from opsproof.config.loader import environment_names, load_environment
from opsproof.errors import ConfigError
from opsproof.runtimes.launched import StackState

if TYPE_CHECKING:
    from tests.config.conftest import ConfigFiles


def test_syntax_error_reports_line_column_and_problem(cfg: "ConfigFiles") -> None:
    text = "environments:\n  e:\n    services: {api: [1, 2}\n"
    [problem] = cfg.problems(text, "e")

    assert (problem.line, problem.column) == (3, 26)
    assert problem.key.startswith("YAML syntax error")


def test_tabs_get_a_hint(cfg: "ConfigFiles") -> None:
    [problem] = cfg.problems("environments:\n\te: {}\n", "e")

    assert problem.line == 2
    assert "indent with spaces" in problem.message


def test_unknown_key_suggests_the_field(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("max_memory_ratio: 0.9", "maxmem: 0.9")
    [problem] = cfg.problems(text)

    assert (problem.line, problem.column) == (cfg.line_of(text, "maxmem"), 9)
    assert problem.key == "environments.staging.services.cache.maxmem"
    assert problem.message.startswith("unknown key; did you mean 'max_memory_ratio'? (allowed: ")
    assert "expect_eviction_policy" in problem.message


def test_unknown_key_lists_aliases_as_written(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("json: {status: ok}", "jsno: {status: ok}")
    [problem] = cfg.problems(text)

    assert problem.line == cfg.line_of(text, "jsno")
    assert "did you mean 'json'?" in problem.message


def test_wrong_type_says_expected_and_got(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("min_days: 14", "min_days: soon")
    [problem] = cfg.problems(text)

    assert problem.line == cfg.line_of(text, "min_days")
    assert problem.key == "environments.staging.services.api.tls.min_days"
    assert problem.message == "expected a whole number; got 'soon'"


def test_wrong_literal_suggests_a_choice(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("method: GET", "method: get")
    [problem] = cfg.problems(text)

    assert problem.line == cfg.line_of(text, "method: get")
    assert "expected one of: GET, HEAD" in problem.message
    assert problem.message.endswith("did you mean 'GET'?")


def test_yaml_booleans_are_explained(cfg: "ConfigFiles") -> None:
    [problem] = cfg.problems(cfg.valid.replace("chaos: allowed", "chaos: yes"))

    assert "got true (YAML reads yes/no/on/off as true/false" in problem.message


def test_missing_required_key_points_at_the_parent(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("        dsn: postgresql://app:${DB_PASS}@127.0.0.1:5432/app\n", "")
    [problem] = cfg.problems(text)

    assert problem.line == cfg.line_of(text, "db:")
    assert problem.key == "environments.staging.services.db.dsn"
    assert problem.message.startswith("missing required key; add 'dsn: ...' under 'db'")
    assert "postgresql://user:password@host:port/db" in problem.message


def test_unknown_kind_lists_the_kinds(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("kind: redis", "kind: reddis")
    [problem] = cfg.problems(text)

    assert (problem.line, problem.column) == (cfg.line_of(text, "reddis"), 15)
    assert problem.key == "environments.staging.services.cache.kind"
    assert problem.message == (
        "unknown kind 'reddis'; did you mean 'redis'? "
        "(kinds: http, redis, postgres, prometheus, host, process)"
    )


def test_missing_kind(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("        kind: prometheus\n", "")
    [problem] = cfg.problems(text)

    assert problem.line == cfg.line_of(text, "prom:")
    assert problem.message.startswith("missing required key; add 'kind: ' with one of: http,")


def test_duplicate_key_names_both_lines(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("        timeout: 5s\n", "        timeout: 5s\n        timeout: 9s\n")
    [problem] = cfg.problems(text)

    assert problem.line == cfg.line_of(text, "timeout: 9s")
    assert problem.key == "environments.staging.services.api.timeout"
    first = cfg.line_of(text, "timeout: 5s")
    assert problem.message.startswith(f"duplicate key (first at line {first}); ")


def test_missing_variable_names_it_and_the_fix(cfg: "ConfigFiles") -> None:
    [problem] = cfg.problems(cfg.valid, environ={"API_KEY": "key-1", "DB_PASS": "db-pw"})

    assert problem.line == cfg.line_of(cfg.valid, "REDIS_PASSWORD")
    assert problem.key == "environments.staging.services.cache.url"
    assert problem.message == (
        "${REDIS_PASSWORD} is not set; "
        "export REDIS_PASSWORD=... or write ${REDIS_PASSWORD:-default}"
    )


def test_malformed_references(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("description: staging stack", "description: ${not valid} $HOME ${OPEN")
    problems = cfg.problems(text)

    assert {p.line for p in problems} == {cfg.line_of(text, "description")}
    assert "${not valid} is not a reference; write ${NAME}" in problems[0].message


def test_bare_dollar_variable_is_rejected(cfg: "ConfigFiles") -> None:
    [problem] = cfg.problems(cfg.valid.replace("staging stack", "costs $HOME"))

    assert problem.message == "write ${HOME} to use a variable, or '$$' for a literal '$'"


def test_unknown_environment_suggests_one(cfg: "ConfigFiles") -> None:
    [problem] = cfg.problems(cfg.valid, "stagin")

    assert (problem.line, problem.key) == (2, "environments")
    assert problem.message == (
        "unknown environment 'stagin'; did you mean 'staging'? (environments: staging, production)"
    )


def test_stack_not_running_is_one_problem(cfg: "ConfigFiles") -> None:
    text = """\
    environments:
      ref:
        services:
          api: {kind: http, url: "${stack.api.url}"}
          box: {kind: host, private_ports: ["${stack.redis.port}", "${stack.api.port}"]}
    """
    [problem] = cfg.problems(text, "ref", stack=lambda: None)

    assert (problem.line, problem.key) == (4, "environments.ref.services.api.url")
    assert problem.message.startswith(
        "${stack.api.url} needs the reference stack, which is not running (as do 2 more values); "
    )
    assert "'opsproof stack up'" in problem.message
    assert "'opsproof run gate'" in problem.message


def test_unknown_stack_key_lists_known_keys(cfg: "ConfigFiles") -> None:
    text = 'environments:\n  ref:\n    services:\n      api: {kind: http, url: "${stack.api.ur}"}\n'
    state = StackState("root", "now", {}, {"api.url": "http://x", "redis.url": "redis://y"})
    [problem] = cfg.problems(text, "ref", stack=lambda: state)

    assert problem.message == (
        "${stack.api.ur}: the reference stack has no value 'api.ur'; did you mean 'api.url'? "
        "(known: api.url, redis.url)"
    )


def test_bad_duration(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("rto: 15m", "rto: 15 minutes")
    [problem] = cfg.problems(text)

    assert problem.line == cfg.line_of(text, "rto:")
    assert problem.key == "environments.staging.slo.rto"
    assert problem.message.startswith("'15 minutes' is not a duration; write e.g. 500ms, 30s")


def test_smoke_step_naming_a_missing_service_points_at_it(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("service: api", "service: web")
    [problem] = cfg.problems(text)

    assert problem.line == cfg.line_of(text, "service: web")
    assert problem.key == "environments.staging.smoke[0].service"
    assert problem.message == "'web' is not an http service here (http services: api)"


def test_all_problems_are_reported_at_once_in_file_order(cfg: "ConfigFiles") -> None:
    text = (
        cfg.valid.replace("min_days: 14", "min_days: soon")
        .replace("kind: redis", "kind: reddis")
        .replace("rto: 15m", "rto: whenever")
    )
    problems = cfg.problems(text, environ={})

    lines = [p.line for p in problems]
    assert lines == sorted(lines)
    assert {p.key.rsplit(".", 1)[-1] for p in problems} == {
        "url",
        "X-Api-Key",
        "min_days",
        "kind",
        "dsn",
        "rto",
    }


def test_a_value_that_failed_interpolation_is_not_reported_twice(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("private_ports: [6379, 5432]", 'private_ports: ["${PORT}"]')
    [problem] = cfg.problems(text)

    assert problem.key == "environments.staging.services.box.private_ports[0]"
    assert problem.message.startswith("${PORT} is not set")


def test_secrets_are_masked_in_errors(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("min_days: 14", "min_days: ${TLS_TOKEN}")
    [problem] = cfg.problems(text, environ={**cfg.environ, "TLS_TOKEN": "hunter2"})

    assert problem.message == "expected a whole number; got '***'"


def test_top_level_is_checked_even_for_another_environment(cfg: "ConfigFiles") -> None:
    text = "version: 2\nenvironments:\n  ok: {services: {}}\n  broken: [1]\n"
    problems = cfg.problems(text, "ok")

    assert [(p.line, p.key) for p in problems] == [
        (1, "version"),
        (4, "environments.broken"),
    ]
    assert problems[0].message == "expected 1; got 2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty; start it with 'version: 1' and 'environments:'"),
        ("- a\n", "expected a mapping of key: value lines; got a list"),
        ("version: 1\n", "missing required key; add 'environments: ...' at the top of the file"),
        ("environments: {}\n", "no environments declared; add 'staging' under 'environments:'"),
        ("environments:\n  staging: !!python/object:os.system {}\n", "unsupported tag"),
        ("environments:\n  staging: !secret x\n", "could not determine a constructor"),
        ("a: &a [*a]\n", "an alias refers to a collection containing it"),
    ],
)
def test_malformed_files(cfg: "ConfigFiles", text: str, message: str) -> None:
    problems = cfg.problems(text)
    assert any(message in f"{p.key}: {p.message}" for p in problems), problems


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"opsproof.yaml: no such file; create it"):
        load_environment(tmp_path / "opsproof.yaml", "staging")


def test_environment_names_validates_the_top_level(cfg: "ConfigFiles") -> None:
    with pytest.raises(ConfigError, match=r":1:1: verison: unknown key; did you mean 'version'"):
        environment_names(cfg.write("verison: 1\nenvironments: {}\n"))


def test_misspelt_kind_is_named(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("kind: postgres", "kidn: postgres")
    [problem] = cfg.problems(text)

    assert (problem.line, problem.key) == (
        cfg.line_of(text, "kidn"),
        "environments.staging.services.db.kidn",
    )
    assert problem.message.startswith("unknown key; did you mean 'kind'? (one of: http, redis,")
