"""The drill's keys (``production``, ``backup.scenario``, a source's ``data_dir``): a wrong
value is one line naming the file, line, key and the fix; and the plan a valid one yields."""

from pathlib import Path

import pytest

from opsproof.config.loader import load_environment
from opsproof.config_check import check_config
from opsproof.drill.plan import plan_of
from opsproof.errors import ConfigError

CONFIG = """\
version: 1
environments:
  staging:
    production: false
    services:
      cache:
        kind: redis
        url: redis://127.0.0.1:6379/0
        runtime: {process: {pid_file: /run/redis.pid, start: [redis-server, /etc/redis.conf]}}
      db:
        kind: postgres
        dsn: postgresql://app:pw@127.0.0.1:5432/app
        runtime: {process: {pid_file: /pg/data/postmaster.pid, start: [pg_ctl, start]}}
      api:
        kind: http
        url: http://127.0.0.1:8000
        runtime: {process: {pid_file: /run/api.pid, start: [api]}}
    flows:
      - name: checkout
        service: api
        steps: [{name: health, request: {method: GET, path: /health}}]
    slo: {rto: 15m, rpo: 15m}
    backup:
      sources:
        cache: {service: cache}
        db: {service: db, data_dir: /pg/data, rto: 5m}
      drill: allowed
      scenario:
        lost: [db, cache]
        stop: [api]
        ready: [api, db]
        flows: [checkout]
"""


REDIS_RUNTIME = (
    "runtime: {process: {pid_file: /run/redis.pid, start: [redis-server, /etc/redis.conf]}}"
)


def _load(tmp_path: Path, text: str) -> str:
    path = tmp_path / "opsproof.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_environment(path, "staging", environ={})
    return str(error.value)


def _line(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("old", "new", "line_of", "key", "fix"),
    [
        ("production: false", "production: maybe", "production:",
         "environments.staging.production", "expected true or false"),
        ("lost: [db, cache]", "lost: [db, cash]", "lost:",
         "environments.staging.backup.scenario.lost[1]",
         "'cash' is not a backup source here; did you mean 'cache'? (cache, db)"),
        ("stop: [api]", "stop: [apj]", "stop:", "environments.staging.backup.scenario.stop[0]",
         "'apj' is not a service here; did you mean 'api'? (api, cache, db)"),
        ("ready: [api, db]", "ready: [api, dv]", "ready:",
         "environments.staging.backup.scenario.ready[1]",
         "'dv' is not a service here; did you mean 'db'?"),
        ("flows: [checkout]", "flows: [chekout]", "flows: [",
         "environments.staging.backup.scenario.flows[0]",
         "'chekout' is not a flow here; did you mean 'checkout'? (checkout)"),
        ("data_dir: /pg/data, rto", "data_dir: [], rto", "data_dir:",
         "environments.staging.backup.sources.db.data_dir",
         "expected a path, such as /var/lib/app; got a list"),
        ("      scenario:\n", "      scenario:\n        los: [db]\n", "los:",
         "environments.staging.backup.scenario.los", "did you mean 'lost'?"),
        ("        runtime: {process: {pid_file: /run/api.pid, start: [api]}}\n", "", "stop:",
         "environments.staging.backup.scenario.stop[0]",
         "services.api declares no runtime that can start it again; the drill stops and starts "
         "it: add runtime: {process: {pid_file: PATH, start: [COMMAND]}}"),
        ("pid_file: /run/redis.pid, start: [redis-server, /etc/redis.conf]",
         "pid_file: /run/redis.pid", "lost:", "environments.staging.backup.scenario.lost[1]",
         "services.cache declares no runtime that can start it again"),
    ],
)  # fmt: skip
def test_a_wrong_drill_key_is_one_line_naming_the_key_and_the_fix(
    tmp_path: Path, old: str, new: str, line_of: str, key: str, fix: str
) -> None:
    text = CONFIG.replace(old, new)
    assert text != CONFIG
    [line] = _load(tmp_path, text).splitlines()
    assert line.startswith(f"{tmp_path / 'opsproof.yaml'}:{_line(text, line_of)}:"), line
    assert f": {key}: " in line and fix in line, line


def test_the_plan_lists_what_the_drill_will_do(tmp_path: Path) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(CONFIG)
    plan = plan_of("staging", load_environment(path, "staging", environ={}).environment, tmp_path)
    assert [(s.source, s.kind, s.rto, s.rpo) for s in plan.stores] == [
        ("db", "postgres", 300.0, 900.0), ("cache", "redis", 900.0, 900.0),
    ]  # fmt: skip
    assert [name for name, _ in plan.stop] == ["api"] and plan.ready == ["api", "db"]
    lines = plan.lines()
    assert lines[0] == "drill on staging: lose and restore db (postgres, db), cache (redis, cache)"
    assert "4. stop api, then the stores; move each data directory aside (never deleted)" in lines
    assert lines[1] == "data directories (moved aside): db /pg/data; cache as the server reports it"


def test_a_store_in_a_container_is_planned_through_its_container(tmp_path: Path) -> None:
    path = tmp_path / "opsproof.yaml"
    path.write_text(CONFIG.replace(REDIS_RUNTIME, "runtime: {docker: {container: redis}}"))
    plan = plan_of("staging", load_environment(path, "staging", environ={}).environment, tmp_path)
    assert [(s.source, s.in_container, s.runtime.id) for s in plan.stores][1] == (
        "cache",
        True,
        "docker://redis",
    )
    assert plan.lines()[1].endswith(
        "cache as the server reports it in docker://redis (a named volume is cloned and checked "
        "before it is emptied, a bind mount's directory renamed)"
    )


def test_the_example_declares_a_drill_of_a_hand_started_deployment() -> None:
    example = Path(__file__).parents[2] / "examples" / "dr-drill.yaml"
    environ = {"REDIS_PASSWORD": "redis-pw", "DB_PASSWORD": "db-pw"}
    loaded = load_environment(example, "staging", environ=environ)
    plan = plan_of("staging", loaded.environment, Path("/nonexistent"))
    assert [s.source for s in plan.stores] == ["cache", "db"] and plan.ready == [
        "api",
        "cache",
        "db",
    ]
    in_docker = load_environment(example, "staging-docker", environ=environ).environment
    plan = plan_of("staging-docker", in_docker, Path("/nonexistent"))
    assert [s.runtime.id for s in plan.stores] == ["docker://shop-redis", "docker://shop-postgres"]
    assert [runtime.id for _, runtime in plan.stop] == ["docker://shop-api"]


def test_config_check_accepts_a_drill_of_a_store_in_a_container(tmp_path: Path) -> None:
    """Where its data lives is asked from the container as the drill starts, not here."""
    path = tmp_path / "opsproof.yaml"
    path.write_text(CONFIG.replace(REDIS_RUNTIME, "runtime: {docker: {container: redis}}"))
    assert check_config(path, "staging", tmp_path / "state").problems == []
