"""Bad config for every key of kind: process, queues and restart_after_revert: one line naming
file:line:column, the key and the fix."""

from pathlib import Path

import pytest

from opsproof.config_check import check_config
from tests.config.conftest import ConfigFiles

BASE = """\
version: 1
environments:
  lab:
    chaos: allowed
    services:
      cache:
        kind: redis
        url: redis://127.0.0.1:6379/0
        runtime: {process: {match: redis-server, start: [redis-server]}}
        queues:
          - {key: jobs, type: list, max: 100}
      worker:
        kind: process
        runtime: {process: {pid_file: /run/worker.pid, start: [/bin/true]}}
        health: {command: [redis-cli, PING], timeout: 5s, expect_output: PONG}
    chaos_plan:
      may_hit: [cache, worker]
      experiments:
        - name: cache killed
          fault: {action: kill, service: cache}
          restart_after_revert: [worker]
          restart_grace: 5s
"""


@pytest.fixture
def cfg(tmp_path: Path) -> ConfigFiles:
    files = ConfigFiles(tmp_path)
    files.environ = {}
    return files


def test_the_base_is_valid(cfg: ConfigFiles) -> None:
    assert check_config(cfg.write(BASE), None, cfg.path.parent).problems == []


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        pytest.param(
            "        runtime: {process: {pid_file: /run/worker.pid, start: [/bin/true]}}\n", "",
            "services.worker.runtime", "missing required key; add 'runtime: ...' under 'worker'",
            id="process without runtime",
        ),
        pytest.param(
            "command: [redis-cli, PING]", "command: []", "services.worker.health.command",
            "at least 1 item", id="empty health command",
        ),
        pytest.param(
            "command: [redis-cli, PING]", 'command: [" ", PING]',
            "services.worker.health.command", "the first word is the program to run; it is empty",
            id="blank program",
        ),
        pytest.param(
            "timeout: 5s, expect_output", "timeout: 0s, expect_output",
            "services.worker.health.timeout", "must be more than 0", id="zero health timeout",
        ),
        pytest.param(
            "timeout: 5s, expect_output", "timeout: 1h, expect_output",
            "services.worker.health.timeout", "300", id="health timeout of an hour",
        ),
        pytest.param(
            "expect_output: PONG}", "expect_output: PONG, expect_exit: 256}",
            "services.worker.health.expect_exit", "255", id="exit status out of range",
        ),
        pytest.param(
            "expect_output: PONG}", "expect_output: PONG, shell: true}",
            "services.worker.health.shell", "unknown key", id="unknown health key",
        ),
        pytest.param(
            "type: list, max: 100", "type: queue, max: 100", "services.cache.queues[0].type",
            "expected one of: list, stream, zset, set; got 'queue'", id="unknown queue type",
        ),
        pytest.param(
            "{key: jobs, type: list, max: 100}", "{key: jobs, type: list}",
            "services.cache.queues[0]", "a queue check needs a bound: set max", id="no bound",
        ),
        pytest.param(
            "type: list, max: 100", "type: list, max: 1, min: 5", "services.cache.queues[0]",
            "max (1) is below min (5)", id="max below min",
        ),
        pytest.param(
            "type: list, max: 100", "type: list, max: -1", "services.cache.queues[0].max",
            "greater than or equal to 0", id="negative max",
        ),
        pytest.param(
            "{key: jobs, type: list, max: 100}", "{key: '', max: 100}",
            "services.cache.queues[0].key", "at least 1 character", id="empty key",
        ),
        pytest.param(
            "          - {key: jobs, type: list, max: 100}\n",
            "          - {key: jobs, max: 100}\n          - {key: jobs, max: 5}\n",
            "services.cache.queues", "jobs listed twice; a queue is checked once",
            id="queue listed twice",
        ),
        pytest.param(
            "restart_after_revert: [worker]", "restart_after_revert: worker",
            "chaos_plan.experiments[0].restart_after_revert", "expected a list",
            id="restart_after_revert not a list",
        ),
        pytest.param(
            "restart_grace: 5s", "restart_grace: soon", "chaos_plan.experiments[0].restart_grace",
            "duration", id="bad grace",
        ),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_located_line(
    cfg: ConfigFiles, old: str, new: str, key: str, message: str
) -> None:
    assert old in BASE
    text = BASE.replace(old, new, 1)
    [problem] = cfg.problems(text, "lab")
    assert problem.key == f"environments.lab.{key}", problem
    assert message in problem.message, problem
    needle = "queues:" if key.endswith("queues") else new.strip().split("\n")[0] or "worker:"
    assert problem.line == cfg.line_of(text, needle), problem


@pytest.mark.parametrize(
    ("listed", "message"),
    [
        pytest.param(
            "[wroker]", "'wroker' is not a service here; did you mean 'worker'?", id="unknown",
        ),
        pytest.param(
            "[api]", "'api' declares no runtime, so it could not be restarted after the revert; "
            "add runtime:", id="no runtime",
        ),
        pytest.param(
            "[box]", "'box' is a host service without a probe to judge its recovery", id="host",
        ),
        pytest.param(
            "[other]", "refused: 'other' would be restarted after the revert but is not in "
            "chaos_plan.may_hit", id="outside may_hit",
        ),
        pytest.param("[worker, worker]", "'worker' is listed twice", id="twice"),
    ],
)  # fmt: skip
def test_a_dependant_that_cannot_be_restarted_is_refused_by_config_check(
    cfg: ConfigFiles, listed: str, message: str
) -> None:
    extra = (
        "      api: {kind: http, url: 'http://127.0.0.1:1'}\n"
        "      box: {kind: host}\n"
        "      other: {kind: process, runtime: {process: {match: x, start: [/bin/true]}}}\n"
    )
    text = BASE.replace("    chaos_plan:\n", extra + "    chaos_plan:\n").replace(
        "restart_after_revert: [worker]", f"restart_after_revert: {listed}"
    )
    if listed == "[box]":
        text = text.replace("      box: {kind: host}\n", "      box: {kind: host}\n")
    path = cfg.write(text)
    problems = check_config(path, "lab", cfg.path.parent / "state").problems
    located = [p for p in problems if "restart_after_revert" in p]
    assert len(located) == 1, problems
    line = cfg.line_of(text, "restart_after_revert:")
    assert located[0].startswith(f"{path}:{line}:"), located
    assert "environments.lab.chaos_plan.experiments[0].restart_after_revert" in located[0]
    assert message in located[0], located
