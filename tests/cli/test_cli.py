"""The ``opsproof`` command end to end: real stack up/status/down, run gate, exit codes, errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.project import PROJECT_ROOT

CLI_TIMEOUT = 240.0


def opsproof(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "opsproof.cli", *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        cwd=PROJECT_ROOT,
        env={**os.environ, **(env or {})},
    )


def alive(pid: int) -> bool:
    """Running, not a zombie: stack components outlive `opsproof stack up`; init may not reap."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_every_command_explains_itself() -> None:
    for command in ([], ["stack"], ["stack", "up"], ["stack", "status"], ["run"], ["doctor"]):
        result = opsproof(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage: " in result.stdout
    assert "deploy gate" in opsproof("run", "--help").stdout


def test_doctor_reports_each_part_with_a_verdict(tmp_path: Path) -> None:
    result = opsproof("doctor", "--state-dir", str(tmp_path))
    assert result.returncode == 0, result.stdout
    for part in ("redis-server", "nginx", "initdb", "docker engine"):
        assert part in result.stdout


def test_unknown_environment_is_a_clear_error_without_traceback(tmp_path: Path) -> None:
    result = opsproof("run", "gate", "--env", "referense", "--state-dir", str(tmp_path))
    assert result.returncode == 4  # a config error: pytest's usage error, under opsproof too
    assert "did you mean 'reference'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.stack
def test_stack_lifecycle_and_gate_run(tmp_path: Path) -> None:
    state = ["--state-dir", str(tmp_path / "state")]
    try:
        assert opsproof("stack", "status", *state).returncode == 3

        up = opsproof("stack", "up", *state)
        assert up.returncode == 0, up.stderr
        status = opsproof("stack", "status", "--json", *state)
        assert status.returncode == 0, status.stdout
        components = {c["name"]: c for c in json.loads(status.stdout)["components"]}
        assert set(components) >= {"nginx", "api", "worker", "redis", "postgres"}
        pids = [c["pid"] for c in components.values()]
        assert all(alive(pid) for pid in pids)
        assert components["nginx"]["url"].startswith("https://127.0.0.1:")
        assert components["api"]["url"].startswith("http://127.0.0.1:")

        reports = tmp_path / "reports"
        gate = opsproof("run", "gate", *state, "--reports-dir", str(reports), "--", "-q")
        assert gate.returncode == 0, gate.stdout + gate.stderr
        (run_dir,) = reports.iterdir()
        assert (run_dir / "evidence.json").is_file()
        # the stack was already running: the gate must leave it running
        assert opsproof("stack", "status", *state).returncode == 0
    finally:
        down = opsproof("stack", "down", *state)
    assert down.returncode == 0, down.stderr
    assert not any(alive(pid) for pid in pids)
    assert opsproof("stack", "status", *state).returncode == 3


@pytest.mark.stack
def test_run_gate_starts_and_stops_the_stack_it_needs(tmp_path: Path) -> None:
    state = ["--state-dir", str(tmp_path / "state")]
    reports = tmp_path / "reports"
    result = opsproof(
        "run", "gate", *state, "--reports-dir", str(reports), "--", "-q", "-k", "liveness"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stopping the reference stack this run started" in result.stderr
    assert opsproof("stack", "status", *state).returncode == 3


@pytest.mark.stack
def test_run_all_runs_every_suite_in_turn_on_one_stack(tmp_path: Path) -> None:
    state = ["--state-dir", str(tmp_path / "state")]
    result = opsproof("run", "all", *state, "--", "--collect-only", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    commands = [line for line in result.stderr.splitlines() if line.startswith("$ ")]
    suites = [Path(command.split()[4]).name for command in commands]
    assert suites == ["checks", "dr", "chaos", "load"]
    assert "--load-time-scale 0.05" in commands[-1]
    assert result.stderr.count("stopping the reference stack this run started") == 1
