"""A refusal is printed once, one line per problem, without a chained traceback: a config error
met while collecting (no evidence asked, so nothing loaded the config before) ends the session
as a usage error instead of a collection error with a traceback in every module."""

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

BROKEN = """
version: 1
environments:
  lab:
    services:
      cache: {kind: redis, url: "redis://127.0.0.1:6999/0", maxmem: 1}
    backup:
      sources: {cache: {service: cache}}
"""
PROBLEM = "environments.lab.services.cache.maxmem: unknown key"


def assert_once(output: str) -> None:
    assert output.count(PROBLEM) == 1, output
    assert "During handling" not in output and "Traceback" not in output, output


def test_a_config_error_while_collecting_is_one_usage_error(pytester: pytest.Pytester) -> None:
    config = pytester.makefile(".yaml", opsproof=BROKEN)
    for module in ("test_one", "test_two"):
        pytester.makepyfile(**{module: "def test_x(redis_target):\n    pass\n"})
    result = pytester.runpytest("--config", str(config), "--env", "lab", "--no-evidence")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_once(result.stdout.str() + result.stderr.str())
    line = next(n for n, text in enumerate(config.read_text().splitlines(), 1) if "maxmem" in text)
    assert f"{config}:{line}:" in result.stderr.str()


@pytest.mark.parametrize("suite", ["checks", "dr"])
def test_the_suites_print_a_config_error_once(suite: str, tmp_path: Path) -> None:
    config = tmp_path / "opsproof.yaml"
    config.write_text(BROKEN)
    path = Path(__file__).resolve().parents[2] / suite
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(path), "--env", "lab", "--config", str(config),
         "--no-evidence", "-p", "no:cacheprovider"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout + done.stderr
    assert_once(done.stdout + done.stderr)
