"""The session's reference stack (its Prometheus, Alertmanager and exporters are real), configs
pointing at it, and helpers to change its Alertmanager for a test and run suites as users do."""

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from opsproof.config.loader import load_environment
from opsproof.faults.experiment import ChaosRun
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.runtimes.launched import StackState
from opsproof.stack.readiness import wait_healthy
from tests.project import PROJECT_ROOT, UNUSED_PLUGINS

SUITE_TIMEOUT = 180.0
RELOAD_TIMEOUT = 10.0

SERVICES = """\
api:
  kind: http
  url: ${stack.api.url}
  ca_file: ${stack.tls.ca_file}
  deep_health: {path: /health/deep, expect_json: {status: healthy}}
  runtime: {process: {component: api}}
redis: {kind: redis, url: "${stack.redis.url}", timeout: 1s, runtime: {process: {component: redis}}}
postgres: {kind: postgres, dsn: "${stack.postgres.dsn}", timeout: 2s}
prometheus: {kind: prometheus, url: "${stack.prometheus.url}", timeout: 2s}
"""

MONITORING = """\
prometheus: prometheus
alertmanager: {url: "${stack.alertmanager.url}"}
webhook: {listen: "127.0.0.1:${stack.alertmanager.webhook_port}"}
"""

WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    """``write_config(plan=..., monitoring=MONITORING, services=SERVICES)``: environment ``lab``
    on the session's stack, chaos allowed when a plan is given."""

    def write(plan: str = "", monitoring: str = MONITORING, services: str = SERVICES) -> Path:
        body = "version: 1\nenvironments:\n  lab:\n    stack: reference\n    chaos: allowed\n"
        body += "    services:\n" + textwrap.indent(textwrap.dedent(services), "      ")
        if monitoring:
            body += "    monitoring:\n" + textwrap.indent(textwrap.dedent(monitoring), "      ")
        if plan:
            body += "    chaos_plan:\n" + textwrap.indent(textwrap.dedent(plan), "      ")
        path = tmp_path / "opsproof.yaml"
        path.write_text(body)
        return path

    return write


@pytest.fixture
def stack_dir(reference_stack: StackState, reference_stack_dir: Path) -> Path:
    return reference_stack_dir


@pytest.fixture
def chaos_run_for(stack_dir: Path) -> Iterator[Callable[[Path], ChaosRun]]:
    """``chaos_run_for(config)``: environment ``lab`` against the session's stack; the stack
    is healthy again and no fault is open after the test."""

    def make(config: Path) -> ChaosRun:
        loaded = load_environment(config, "lab", stack=lambda: StackState.load(stack_dir))
        return ChaosRun("lab", loaded.environment, stack_dir, Ledger(ledger_path(stack_dir)))

    yield make
    state = StackState.load(stack_dir)
    assert state is not None
    wait_healthy(state, 30)
    assert not Ledger(ledger_path(stack_dir)).open_faults(), "a fault was left open"


@contextmanager
def alertmanager_config(state: StackState, text: str) -> Iterator[None]:
    """The stack's Alertmanager runs ``text`` as its config for the block (reloaded, then put
    back and reloaded again)."""
    path = Path(state.values["alertmanager.config_file"])
    original = path.read_text()
    path.write_text(text)
    try:
        _reload(state)
        yield
    finally:
        path.write_text(original)
        _reload(state)


def _reload(state: StackState) -> None:
    url = state.values["alertmanager.url"]
    answer = httpx.post(f"{url}/-/reload", timeout=RELOAD_TIMEOUT, trust_env=False)
    assert answer.status_code == 200, answer.text


@contextmanager
def silence(state: StackState, alertname: str) -> Iterator[str]:
    """A silence of ``alertname`` in the stack's Alertmanager for the block; yields its id."""
    url = state.values["alertmanager.url"]
    now = time.time()
    body = {
        "matchers": [{"name": "alertname", "value": alertname, "isRegex": False}],
        "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
        "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 600)),
        "createdBy": "opsproof-tests",
        "comment": "maintenance window",
    }
    created = httpx.post(f"{url}/api/v2/silences", json=body, timeout=5, trust_env=False)
    assert created.status_code == 200, created.text
    silence_id = str(created.json()["silenceID"])
    try:
        yield silence_id
    finally:
        httpx.delete(f"{url}/api/v2/silence/{silence_id}", timeout=5, trust_env=False)


@dataclass
class SuiteRun:
    returncode: int
    output: str
    evidence: dict[str, Any]

    def check(self, fragment: str) -> dict[str, Any]:
        """The one check whose id contains ``fragment``."""
        found = [c for c in self.evidence.get("checks", []) if fragment in c["id"]]
        assert len(found) == 1, f"{fragment!r} matches {[c['id'] for c in found]}\n{self.output}"
        return found[0]


@pytest.fixture
def run_suite(stack_dir: Path, tmp_path: Path) -> Callable[..., SuiteRun]:
    """``run_suite("checks", config, *pytest_args)``: a suite in a subprocess, as a user runs
    it, against the session's stack; its evidence read back."""

    def run(suite: str, config: Path, *args: str) -> SuiteRun:
        reports = tmp_path / f"reports-{suite}"
        command = [
            sys.executable, "-m", "pytest", str(PROJECT_ROOT / suite),
            "--env", "lab", "--config", str(config), "--run-kind", "chaos" if suite == "chaos"
            else "gate", "--stack-state-dir", str(stack_dir), "--reports-dir", str(reports),
            *UNUSED_PLUGINS, "-q", *args,
        ]  # fmt: skip
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=SUITE_TIMEOUT, cwd=PROJECT_ROOT
        )
        runs = sorted(reports.iterdir()) if reports.exists() else []
        evidence = json.loads((runs[-1] / "evidence.json").read_text()) if runs else {}
        return SuiteRun(done.returncode, done.stdout + done.stderr, evidence)

    return run
