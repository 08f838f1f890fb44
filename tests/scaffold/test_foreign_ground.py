"""A deployment opsproof did not start, declared only through ``opsproof init --from``: a small
app's compose file, its Redis and web server started by hand on the loopback. The generated
config, with the ports exported, fails the gate only on the containers it guessed (the programs
run by hand), passes once they are declared as processes, and fails once the web server is gone."""

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from opsproof.support.ports import free_ports
from tests.scaffold.commands import generate, opsproof

COMPOSE = """\
services:
  app:
    image: python:3.12-slim
    command: python -m http.server 8000 --directory /site
    ports: ["8080:8000"]
    depends_on: [redis]
  redis:
    image: redis:7
    command: redis-server --maxmemory 32mb --maxmemory-policy allkeys-lru
    ports: ["6379:6379"]
"""


@pytest.fixture
def by_hand(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The app's two programs, started as a person would; their ports as the variables the
    generated config reads."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "health").write_text("ok\n")
    redis_port, app_port = free_ports(2)
    redis_server = shutil.which("redis-server")
    assert redis_server, "redis-server is installed by scripts/setup.sh"
    redis = subprocess.Popen(
        [redis_server, "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
         "--maxmemory", "32mb", "--maxmemory-policy", "allkeys-lru"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    app = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(app_port), "--bind", "127.0.0.1",
         "--directory", str(site)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield {"REDIS_PORT": str(redis_port), "APP_PORT": str(app_port), "APP_PID": str(app.pid)}
    finally:
        for process in (app, redis):
            process.kill()
            process.wait(timeout=10)


def test_the_generated_config_gates_a_deployment_opsproof_did_not_start(
    by_hand: dict[str, str], tmp_path: Path
) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    config = generate(compose, tmp_path / "opsproof.yaml", "--env", "lab")
    ports = {key: by_hand[key] for key in ("REDIS_PORT", "APP_PORT")}
    run = [
        "run", "gate", "--config", str(config), "--env", "lab",
        "--state-dir", str(tmp_path / "state"), "--reports-dir", str(tmp_path / "runs"),
    ]  # fmt: skip

    checked = opsproof("config", "check", "--config", str(config), "--env", "lab", env=ports)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    guessed = opsproof(*run, env=ports)  # the containers the compose file names are not there
    assert guessed.returncode == 1
    failed = [line for line in guessed.stdout.splitlines() if line.startswith("FAILED ")]
    assert len(failed) == 2 and all("test_runtime_health[" in line for line in failed), failed
    assert "no such container; check runtime.docker.container of services.app" in guessed.stdout

    _run_by_hand(config, by_hand)  # the fix the reason asks for, in config only
    gate = opsproof(*run, env=ports)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    junit = ElementTree.parse(next((tmp_path / "runs").glob("*-gate-lab/junit.xml")))
    passed = {
        case.get("name", "").partition("[")[0]
        for case in junit.iter("testcase")
        if not any(child.tag in ("skipped", "failure", "error") for child in case)
    }
    assert {"test_liveness", "test_redis_ping", "test_redis_role", "test_redis_memory",
            "test_redis_eviction_policy"} <= passed  # fmt: skip

    subprocess.run(["kill", by_hand["APP_PID"]], check=True)
    failed = opsproof(*run, env=ports)
    assert failed.returncode == 1
    health = f"http://127.0.0.1:{ports['APP_PORT']}/health"
    assert f"FAILED checks/test_health.py::test_liveness[GET {health}]" in failed.stdout


def _run_by_hand(config: Path, by_hand: dict[str, str]) -> None:
    """Declare the programs as the processes they are here instead of the guessed containers."""
    document = yaml.safe_load(config.read_text())
    services = document["environments"]["lab"]["services"]
    matches = {"app": f"http.server {by_hand['APP_PORT']}", "redis": f":{by_hand['REDIS_PORT']}"}
    for name, match in matches.items():
        services[name]["runtime"] = {"process": {"match": match}}
    config.write_text(yaml.safe_dump(document, sort_keys=False))
