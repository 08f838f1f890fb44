"""A config error as a user meets it: printed once, located, no traceback, exit 4 — whether
pytest or ``opsproof run`` reports it, with or without ``--env``, ``--collect-only`` or xdist."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opsproof.paths import SUITES
from tests.config.shipped import literal_shipped_config

CONFIG_ERROR = pytest.ExitCode.USAGE_ERROR  # 4, under opsproof too (README, docs/evidence.md)
BROKEN = """\
version: 1
environments:
  {env}:
    services:
      cache: {{kind: redis, url: "redis://127.0.0.1:6999/0", timeout: .nan}}
"""
PROBLEM = "services.cache.timeout: a duration cannot be NaN"
UNSET = """\
version: 1
environments:
  {env}:
    services:
      cache: {{kind: redis, url: "redis://:${{OPSPROOF_TEST_UNSET}}@127.0.0.1:6999/0"}}
"""


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("OPSPROOF_")}
    return subprocess.run(
        [sys.executable, "-m", *argv],
        capture_output=True, text=True, timeout=300, cwd=cwd, env=environ,
    )  # fmt: skip


def pytest_checks(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    state = config.parent / "state"
    return run(
        "pytest", str(SUITES["gate"]), "--config", str(config), "--stack-state-dir", str(state),
        "--reports-dir", str(config.parent / "runs"), "-p", "no:cacheprovider", *extra,
        cwd=config.parent,
    )  # fmt: skip


def opsproof_gate(config: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run(
        "opsproof.cli", "run", "gate", "--config", str(config),
        "--state-dir", str(config.parent / "state"), "--reports-dir", str(config.parent / "runs"),
        *extra, cwd=config.parent,
    )  # fmt: skip


def assert_one_clean_error(done: subprocess.CompletedProcess[str], problem: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == CONFIG_ERROR, output
    assert output.count(problem) == 1, output
    for noise in ("Traceback", "ERROR collecting", "INTERNALERROR", "pluggy", "During handling"):
        assert noise not in output, output
    assert " collected" not in done.stdout, output  # refused before collection


def write(tmp_path: Path, template: str, env: str) -> Path:
    config = tmp_path / "opsproof.yaml"
    config.write_text(template.format(env=env))
    return config


@pytest.mark.parametrize(
    "extra",
    [
        ("--env", "lab", "--collect-only"),
        ("--env", "lab"),
        ("--env", "lab", "-n", "2"),
    ],
    ids=["collect-only", "run", "xdist"],
)
def test_pytest_with_env_prints_a_config_error_once(tmp_path: Path, extra: tuple[str]) -> None:
    config = write(tmp_path, BROKEN, "lab")
    done = pytest_checks(config, *extra)
    assert_one_clean_error(done, f"{config}:5:")
    assert PROBLEM in done.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("extra", [(), ("--collect-only",), ("-n", "2")], ids=str)
def test_plain_pytest_checks_prints_a_config_error_once(tmp_path: Path, extra: tuple[str]) -> None:
    # no --env: the suite's environment is `reference`; with -n 2 this exited 5 ("no tests
    # ran") with the error nowhere to be seen
    config = write(tmp_path, BROKEN, "reference")
    assert_one_clean_error(pytest_checks(config, *extra), PROBLEM)


def test_opsproof_run_refuses_before_starting_anything(tmp_path: Path) -> None:
    config = write(tmp_path, BROKEN, "lab")
    done = opsproof_gate(config, "--env", "lab", "--", "--collect-only")
    assert_one_clean_error(done, PROBLEM)
    assert "$ " not in done.stderr  # no pytest command line: refused before it


def test_an_error_only_interpolation_finds_exits_alike(tmp_path: Path) -> None:
    config = write(tmp_path, UNSET, "lab")
    done = opsproof_gate(config, "--env", "lab", "--", "--collect-only")
    assert_one_clean_error(done, "${OPSPROOF_TEST_UNSET} is not set")
    assert "$ " in done.stderr  # this one pytest reported


def test_a_fifo_as_config_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "opsproof.yaml"
    os.mkfifo(fifo)
    started = time.monotonic()
    for done in (
        pytest_checks(fifo, "--env", "lab", "--collect-only"),
        opsproof_gate(fifo, "--env", "lab"),
    ):
        assert_one_clean_error(done, f"{fifo}: is a named pipe (FIFO), not a file")
    assert time.monotonic() - started < 120  # each blocked until killed before


def test_the_written_out_shipped_config_collects(tmp_path: Path) -> None:
    # the up-front load must not refuse a good file: the gate collects its items
    config = tmp_path / "opsproof.yaml"
    config.write_text(literal_shipped_config())
    done = pytest_checks(config, "--env", "reference", "--collect-only", "-q")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smoke" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_a_directory_as_config_is_a_config_error_under_opsproof(tmp_path: Path) -> None:
    # click's own check said "is a directory" with exit 2, unlike every other config error
    (tmp_path / "state").mkdir()
    done = opsproof_gate(tmp_path / "state", "--env", "lab")
    assert_one_clean_error(done, f"{tmp_path / 'state'}: is a directory, not a file")
