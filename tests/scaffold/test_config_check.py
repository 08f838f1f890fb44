"""``opsproof config check``: 0 for a valid file, 2 and every problem on its own located line
for an invalid one; with --env, the environment as a run loads it and its chaos plan as the chaos
suite would refuse it; ``opsproof init``'s template validates as written."""

from pathlib import Path

from opsproof.paths import SHIPPED_CONFIG
from tests.scaffold.commands import opsproof

BROKEN = """\
version: 1
environments:
  staging:
    services:
      api: {kind: http, url: "http://127.0.0.1:8000", timout: 2s}
      cache: {kind: redis, url: "http://127.0.0.1:6379"}
  production:
    services:
      api: {kind: htp, url: "https://${PROD_HOST}"}
    chaos: maybe
"""


def test_the_shipped_config_is_valid_as_written(tmp_path: Path) -> None:
    result = opsproof(
        "config", "check", "--config", str(SHIPPED_CONFIG), "--state-dir", str(tmp_path)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.endswith("valid (every environment as written)\n")


def test_every_problem_of_every_environment_is_one_located_line(tmp_path: Path) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(BROKEN)

    result = opsproof("config", "check", "--config", str(config))

    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [
        f"{config}:5:55", f"{config}:6:33", f"{config}:9:19", f"{config}:10:12",
    ]  # fmt: skip
    assert "did you mean 'timeout'?" in lines[0]
    assert "environments.production.chaos" in lines[3]
    assert result.stderr.endswith("invalid (4 problem line(s))\n")


def test_env_loads_as_a_run_would_and_names_the_variable(tmp_path: Path) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(
        BROKEN.replace("timout", "timeout")
        .replace("http://127.0.0.1:6379", "redis://127.0.0.1:6379")
        .replace("htp", "http")
        .replace("maybe", "forbidden")
    )
    assert opsproof("config", "check", "--config", str(config)).returncode == 0

    unset = opsproof("config", "check", "--config", str(config), "--env", "production")
    assert unset.returncode == 2
    assert unset.stdout == (
        f"{config}:9:30: environments.production.services.api.url: ${{PROD_HOST}} is not set; "
        "export PROD_HOST=... or write ${PROD_HOST:-default}\n"
    )
    set_ = opsproof(
        "config", "check", "--config", str(config), "--env", "production",
        env={"PROD_HOST": "example.com"},
    )  # fmt: skip
    assert set_.returncode == 0, set_.stdout


PLAN = """\
version: 1
environments:
  lab:
    chaos: {chaos}
    services:
      web: {{kind: http, url: "http://127.0.0.1:8000"}}
      cache:
        kind: redis
        url: redis://127.0.0.1:6379/0
        runtime: {{process: {{match: "redis-server 127.0.0.1:6379"}}}}
    chaos_plan:
      may_hit: [cache]
      experiments:
        - name: cache killed
          fault: {{action: kill, service: cache}}
"""


def test_a_plan_that_could_not_be_undone_is_refused_where_chaos_is_allowed(tmp_path: Path) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(PLAN.format(chaos="allowed"))
    check = ["config", "check", "--config", str(config), "--state-dir", str(tmp_path)]

    assert opsproof(*check).returncode == 0  # as written: the plan is a machine's question
    refused = opsproof(*check, "--env", "lab")
    assert refused.returncode == 2
    (line,) = refused.stdout.splitlines()
    assert line.startswith(f"{config}:10:28: environments.lab.services.cache.runtime.process: ")
    assert "nothing could start it again: no start command declared; add start:" in line
    assert opsproof(*check, "--env", "lab", "--no-plan").returncode == 0


def test_a_forbidden_plan_is_checked_only_when_asked(tmp_path: Path) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(PLAN.format(chaos="forbidden"))
    check = ["config", "check", "--config", str(config), "--state-dir", str(tmp_path)]

    assert opsproof(*check, "--env", "lab").returncode == 0
    asked = opsproof(*check, "--env", "lab", "--plan")
    assert asked.returncode == 2
    assert "does not allow chaos" in asked.stdout


def test_a_stack_environment_without_a_stack_is_checked_as_written(tmp_path: Path) -> None:
    result = opsproof(
        "config", "check", "--config", str(SHIPPED_CONFIG), "--env", "reference",
        "--state-dir", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
    assert "its ${stack.…} values were not checked (opsproof stack up)" in result.stderr


def test_the_template_validates_and_asks_for_its_url(tmp_path: Path) -> None:
    default = tmp_path / "default.yaml"
    made = opsproof("init", "--output", str(default))
    assert made.returncode == 0, made.stderr
    assert opsproof("config", "check", "--config", str(default)).returncode == 0
    unset = opsproof("config", "check", "--config", str(default), "--env", "staging")
    assert unset.returncode == 2 and "${APP_URL} is not set" in unset.stdout

    given = tmp_path / "given.yaml"
    made = opsproof("init", "--env", "prod", "--url", "https://shop.example.com", "-o", str(given))
    assert made.returncode == 0, made.stderr
    checked = opsproof("config", "check", "--config", str(given), "--env", "prod")
    assert checked.returncode == 0, checked.stdout
    assert "url: https://shop.example.com" in given.read_text()


def test_a_bad_environment_name_is_refused(tmp_path: Path) -> None:
    result = opsproof("init", "--env", "a b:", "-o", str(tmp_path / "x.yaml"))
    assert result.returncode == 2
    assert "use letters, digits" in result.stderr


def test_both_commands_explain_themselves() -> None:
    for command in (["config"], ["config", "check"], ["init"]):
        shown = opsproof(*command, "--help")
        assert shown.returncode == 0, shown.stderr
        assert "Usage: " in shown.stdout
    assert (
        "exit status 0 when valid, 2 when not"
        in opsproof("config", "check", "--help").stdout.lower()
    )
    assert "GUESS" in opsproof("init", "--help").stdout


def test_a_url_that_is_not_one_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    result = opsproof("init", "--url", "shop.example.com", "-o", str(tmp_path / "x.yaml"))
    assert result.returncode == 2
    assert "expected a URL starting with http:// or https://" in result.stderr
    assert not (tmp_path / "x.yaml").exists()
