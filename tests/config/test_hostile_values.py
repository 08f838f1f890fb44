"""Values a careless editor writes (issue #14), each rejected at load with its key and the
reason — before, each was accepted and then passed a check it should have failed, retried
forever, or became a traceback inside an item."""

import time
from typing import TYPE_CHECKING

import pytest

from opsproof.config.loader import load_environment

if TYPE_CHECKING:
    from tests.config.conftest import ConfigFiles

API = "environments.staging.services.api"
BOX = "environments.staging.services.box"
STEP = "environments.staging.smoke[0]"

# (what the editor changed in the valid file, the key reported, words the message holds)
CASES = [
    ("max_latency: 500ms", "max_latency: .nan", f"{STEP}.expect.max_latency", "NaN"),
    ("interval: 1s", "interval: .nan", "environments.staging.convergence.interval", "NaN"),
    ("timeout: 60s", "timeout: .nan", "environments.staging.convergence.timeout", "NaN"),
    ("timeout: 5s", "timeout: .inf", f"{API}.timeout", "at most 366d"),
    ("timeout: 5s", "timeout: 1.0e+308", f"{API}.timeout", "at most 366d"),
    ("timeout: 5s", "timeout: " + "9" * 310, f"{API}.timeout", "about 310 digits"),
    ("timeout: 5s", "timeout: 0", f"{API}.timeout", "more than 0"),
    ("timeout: 5s", "timeout: -1s", f"{API}.timeout", "not a duration"),
    ("expect_status: 200", "expect_status: -5", f"{API}.health.expect_status", "100 to 599"),
    ("\n          status: 200", "\n          status: 1.0e+22", f"{STEP}.expect.status",
     "whole number"),
    ("\n          status: 200", "\n          status: 700", f"{STEP}.expect.status", "100 to 599"),
    ("min_days: 14", "min_days: yes", f"{API}.tls.min_days", "expected a number; got true"),
    ("min_days: 14", "min_days: 1000000", f"{API}.tls.min_days", "3650"),
    ("max_memory_ratio: 0.9", "max_memory_ratio: on", "environments.staging.services.cache"
     ".max_memory_ratio", "expected a number; got true"),
    ("max_used_percent: 90", "max_used_percent: .nan", f"{BOX}.disks[0].max_used_percent",
     "got nan"),
    ("version: 1", "version: true", "version", "expected a number; got true"),
    ("- path: /", "- path: ''", f"{BOX}.disks[0].path", "cannot be empty"),
    ("- path: /", '- path: "/a\\0b"', f"{BOX}.disks[0].path", "NUL"),
    ("url: ${API_URL:-http://127.0.0.1:8000}", "url: http://127.0.0.1:abc/", f"{API}.url",
     "its port 'abc' is not a number from 1 to 65535"),
    ("url: ${API_URL:-http://127.0.0.1:8000}", "url: http://127.0.0.1:0/", f"{API}.url",
     "port '0'"),
    ("url: ${API_URL:-http://127.0.0.1:8000}", f"url: http://{'a' * 90}.example/", f"{API}.url",
     "a label of 90 characters; each is 1 to 63"),
    ("url: ${API_URL:-http://127.0.0.1:8000}", "url: http://xn--zz.example/", f"{API}.url",
     "not a valid international name"),
    ("url: redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0", "url: redis://127.0.0.1:6379/zero",
     "environments.staging.services.cache.url", "database is a number"),
    ("min_days: 14", f"min_days: 14\n          hostname: {'b' * 90}.example", f"{API}.tls.hostname",
     "a label of 90 characters"),
    ("X-Api-Key: ${API_KEY}", "X-Api-Key: clé", f"{API}.headers.X-Api-Key",
     "printable ASCII on one line; this one has the character 'é' at character 3"),
    ("X-Api-Key: ${API_KEY}", 'X-Api-Key: "k\\r\\nX-Injected: 1"', f"{API}.headers.X-Api-Key",
     "a line break at character 2"),
    ("X-Api-Key: ${API_KEY}", "X Api Key: k", f"{API}.headers['X Api Key']", "header name"),
    ("private_ports: [6379, 5432]", "private_ports: [99999, 5432]", f"{BOX}.private_ports[0]",
     "1 to 65535"),
    ("private_ports: [6379, 5432]", "private_ports: [6379, -1]", f"{BOX}.private_ports[1]",
     "1 to 65535"),
    ("private_ports: [6379, 5432]", "private_ports: [0, 5432]", f"{BOX}.private_ports[0]",
     "1 to 65535"),
    ("private_ports: [6379, 5432]", "private_ports: [true, 5432]", f"{BOX}.private_ports[0]",
     "expected a number; got true"),
    ("          path: /health\n        expect:", '          path: "/health\\r\\nHost: evil"\n'
     "        expect:", f"{STEP}.request.path", "line break or control character"),
    ("metrics:\n          path: /metrics", "metrics:\n          path: metrics",
     f"{API}.metrics.path", "starts with '/'"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key", "words"), CASES, ids=[c[1][:40] for c in CASES])
def test_a_hostile_value_is_refused_with_its_key(
    cfg: "ConfigFiles", old: str, new: str, key: str, words: str
) -> None:
    assert old in cfg.valid
    text = cfg.valid.replace(old, new, 1)
    problems = cfg.problems(text)

    assert [p.key for p in problems] == [key], problems
    [problem] = problems
    assert words in problem.message
    written = [line.strip() for line in new.splitlines() if line.strip()]
    assert problem.line in {cfg.line_of(text, line) for line in written}


def test_three_bad_ports_are_three_problems(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("private_ports: [6379, 5432]", "private_ports: [99999, -1, 0]")
    problems = cfg.problems(text)
    assert [p.key.rpartition(".")[2] for p in problems] == [
        "private_ports[0]",
        "private_ports[1]",
        "private_ports[2]",
    ]
    assert [p.message.rpartition("got ")[2] for p in problems] == ["99999", "-1", "0"]


def test_a_header_value_is_never_echoed(cfg: "ConfigFiles") -> None:
    secret = "tøken-that-must-not-be-shown"
    text = cfg.valid.replace("X-Api-Key: ${API_KEY}", f"X-Api-Key: {secret}")
    [problem] = cfg.problems(text)
    assert "tøken" not in problem.message and "must-not" not in problem.message


def test_a_long_value_is_echoed_as_an_excerpt(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("timeout: 5s", f"timeout: {'x' * 5000}")
    [problem] = cfg.problems(text)
    assert "(5,000 characters)" in problem.message
    assert len(problem.message) < 200


def test_a_deep_mapping_as_kind_is_not_echoed_whole(cfg: "ConfigFiles") -> None:
    deep = "{" + ", ".join(f"k{i}: {{a: [1, 2, 3], b: {{c: {'v' * 20}}}}}" for i in range(40)) + "}"
    [problem] = cfg.problems(cfg.valid.replace("kind: redis", f"kind: {deep}"))
    assert problem.key == "environments.staging.services.cache.kind"
    assert problem.message.startswith("unknown kind {")
    assert len(problem.message) < 200


FAULT = """\
    chaos_plan:
      may_hit: [cache]
      experiments:
        - name: cache killed
          fault: {FAULT}
"""
ACTIONS = "kill, stop, restart, pause, memory, cpu, disk_fill, network"


@pytest.mark.parametrize(
    ("fault", "key", "message"),
    [
        (
            "{service: cache}",
            "fault.action",
            f"missing required key; add 'action: ' with one of: {ACTIONS}",
        ),
        (
            "{kind: kill, service: cache}",
            "fault.kind",
            f"unknown key; did you mean 'action'? (one of: {ACTIONS})",
        ),
        (
            "{action: kil, service: cache}",
            "fault.action",
            f"unknown action 'kil'; did you mean 'kill'? (actions: {ACTIONS})",
        ),
    ],
)
def test_a_fault_names_its_real_key_and_choices(
    cfg: "ConfigFiles", fault: str, key: str, message: str
) -> None:
    text = cfg.valid.replace("    chaos: allowed\n", "    chaos: allowed\n" + FAULT).replace(
        "{FAULT}", fault
    )
    [problem] = cfg.problems(text)
    assert problem.key == f"environments.staging.chaos_plan.experiments[0].{key}"
    assert problem.message == message


def test_a_problem_inside_a_fault_is_located_without_its_tag(cfg: "ConfigFiles") -> None:
    fault = "{action: cpu, service: cache, cpus: .inf}"
    text = cfg.valid.replace("    chaos: allowed\n", "    chaos: allowed\n" + FAULT).replace(
        "{FAULT}", fault
    )
    [problem] = cfg.problems(text)
    assert problem.key == "environments.staging.chaos_plan.experiments[0].fault.cpus"


def test_values_at_their_limits_load(cfg: "ConfigFiles") -> None:
    text = (
        cfg.valid.replace("private_ports: [6379, 5432]", "private_ports: [1, 65535]")
        .replace("status: 200", "status: 599")
        .replace("timeout: 5s", "timeout: 366d")
        .replace("timeout: 60s", "timeout: 0")  # convergence: 0 disables retrying
        .replace("url: ${API_URL:-http://127.0.0.1:8000}", f"url: http://{'a' * 63}.example:1/")
    )
    loaded = load_environment(cfg.write(text), "staging", environ=cfg.environ)
    assert loaded.environment.convergence.timeout == 0


def test_other_environments_are_validated_as_written(cfg: "ConfigFiles") -> None:
    # production's url needs a variable staging runs never set: not judged; its typo is
    text = cfg.valid.replace("        url: ${PROD_API_URL}\n", "        url: ${PROD_API_URL}\n"
                             "        timeout: soon\n        helth: ${UNSET}\n")  # fmt: skip
    problems = cfg.problems(text)
    assert [p.key for p in problems] == [
        "environments.production.services.api.timeout",
        "environments.production.services.api.helth",
    ]


def test_a_reference_in_another_environment_is_judged_when_it_is_loaded(
    cfg: "ConfigFiles",
) -> None:
    text = cfg.valid.replace("        url: ${PROD_API_URL}\n", "        url: ${PROD_API_URL}\n"
                             "        timeout: ${PROD_TIMEOUT}\n")  # fmt: skip
    load_environment(cfg.write(text), "staging", environ=cfg.environ)
    [problem] = cfg.problems(text, "production", {"PROD_API_URL": "http://p", "PROD_TIMEOUT": "x"})
    assert problem.key == "environments.production.services.api.timeout"


def test_a_reference_syntax_error_in_another_environment_is_reported(cfg: "ConfigFiles") -> None:
    text = cfg.valid.replace("url: ${PROD_API_URL}", "url: $PROD_API_URL")
    [problem] = cfg.problems(text)
    assert problem.key == "environments.production.services.api.url"
    assert "write ${PROD_API_URL}" in problem.message


def test_many_problems_are_capped_and_counted(cfg: "ConfigFiles") -> None:
    ports = ", ".join(["0"] * 200)
    text = cfg.valid.replace("private_ports: [6379, 5432]", f"private_ports: [{ports}]")
    problems = cfg.problems(text)
    assert len(problems) == 51
    assert problems[-1].key.startswith("and 150 more problems")


def test_thousands_of_problems_are_counted_exactly_and_fast(cfg: "ConfigFiles") -> None:
    ports = ", ".join(["0"] * 3000)
    text = cfg.valid.replace("private_ports: [6379, 5432]", f"private_ports: [{ports}]")
    started = time.process_time()
    problems = cfg.problems(text)
    assert time.process_time() - started < 2
    assert problems[-1].key == "and 2,950 more problems; fix the ones above first"
