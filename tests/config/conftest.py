"""Config loader test helpers: a valid file, writing files, and reading back where errors point."""

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from opsproof.config.loader import load_environment
from opsproof.errors import ConfigError

VALID = """\
version: 1
environments:
  staging:
    description: staging stack
    services:
      api:
        kind: http
        url: ${API_URL:-http://127.0.0.1:8000}
        timeout: 5s
        headers:
          X-Api-Key: ${API_KEY}
        health:
          path: /health
          expect_status: 200
        deep_health:
          path: /health/deep
          expect_json: {checks.redis: ok}
        metrics:
          path: /metrics
          names: [http_requests_total]
        tls:
          min_days: 14
      cache:
        kind: redis
        url: redis://:${REDIS_PASSWORD}@127.0.0.1:6379/0
        max_memory_ratio: 0.9
        expect_eviction_policy: noeviction
      db:
        kind: postgres
        dsn: postgresql://app:${DB_PASS}@127.0.0.1:5432/app
        long_query_seconds: 5m
      prom:
        kind: prometheus
        url: http://127.0.0.1:9090
        expected_jobs: [api]
      box:
        kind: host
        backend: local://
        private_ports: [6379, 5432]
        disks:
          - path: /
            max_used_percent: 90
    smoke:
      - name: health
        service: api
        request:
          method: GET
          path: /health
        expect:
          status: 200
          json: {status: ok}
          max_latency: 500ms
    slo:
      latency_p95: 500ms
      error_rate: 0.01
      rto: 15m
    convergence:
      timeout: 60s
      interval: 1s
    chaos: allowed
    load: forbidden
  production:
    services:
      api:
        kind: http
        url: ${PROD_API_URL}
"""
"""A valid file; production needs a variable the staging tests never set."""

VALID_ENVIRON = {"API_KEY": "key-123", "REDIS_PASSWORD": "redis-pw", "DB_PASS": "db-pw"}

PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<rest>.*)$")


@dataclass(frozen=True)
class Reported:
    """One line of a ConfigError, split into its parts."""

    line: int
    column: int
    key: str
    message: str


class ConfigFiles:
    """Writes config files into a temp dir and loads them, splitting errors into their parts."""

    valid = VALID
    environ = VALID_ENVIRON

    def __init__(self, directory: Path) -> None:
        self.path = directory / "opsproof.yaml"

    def write(self, text: str) -> Path:
        """Write (dedented) YAML and return its path."""
        self.path.write_text(textwrap.dedent(text))
        return self.path

    def problems(
        self, text: str, env: str = "staging", environ: dict[str, str] | None = None, **kw: Any
    ) -> list[Reported]:
        """Load ``text``, which must fail, and return each reported problem."""
        with pytest.raises(ConfigError) as caught:
            load_environment(
                self.write(text), env, environ=self.environ if environ is None else environ, **kw
            )
        return self.split(str(caught.value))

    def split(self, message: str) -> list[Reported]:
        """The parts of each line of a ConfigError; every line must name the file and a position."""
        reported = []
        for line in message.splitlines():
            match = PROBLEM.match(line)
            assert match, f"not file:line:column: {line!r}"
            assert match["file"] == str(self.path)
            key, _, rest = match["rest"].partition(": ")
            reported.append(Reported(int(match["line"]), int(match["column"]), key, rest))
        return reported

    @staticmethod
    def line_of(text: str, needle: str, occurrence: int = 1) -> int:
        """1-based number of the line holding the n-th occurrence of ``needle``."""
        lines = [
            n for n, line in enumerate(textwrap.dedent(text).splitlines(), 1) if needle in line
        ]
        return lines[occurrence - 1]


@pytest.fixture
def cfg(tmp_path: Path) -> ConfigFiles:
    return ConfigFiles(tmp_path)
