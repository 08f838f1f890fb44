"""A flow against a service opsproof did not start, declared only in YAML, through the gate as
a user runs it: login → bearer token → binary upload → poll → download a ZIP."""

import json
import os
import subprocess
import sys
from pathlib import Path

from opsproof.config.flows import FlowSpec
from opsproof.config.models import HttpService
from opsproof.journeys.flow import FlowContext, run_flow
from tests.journeys.foreign_app import PASSWORD, foreign_app
from tests.project import PROJECT_ROOT

CONFIG = """\
version: 1
environments:
  foreign:
    services:
      converter:
        kind: http
        url: ${APP_URL}
        health: {path: /healthz, expect_json: {ok: true}}
    flows:
      - name: convert a file
        service: converter
        headers: {Authorization: "Bearer ${token}"}   # from the step that captures the token on
        steps:
          - name: log in
            request: {method: POST, path: /v1/login, form: {user: sre, password: "${APP_PASSWORD}"}}
            expect: {status: 200, body_contains: "token="}
            capture: {token: {regex: "token=(\\\\w+)"}}
          - name: upload
            request:
              method: POST
              path: /v1/convert
              headers: {Content-Type: application/octet-stream}
              body_file: payload.bin
            expect: {status: 201, json_absent: [error]}
            capture:
              ticket: {json: "$.data.jobs[0].ticket"}
              job: {json: data.jobs.0.links.self}
          - name: wait
            request: {path: "${job}"}
            poll: {json: state, until: [SUCCEEDED], fail_on: [FAILED], interval: 50ms, timeout: 5s}
            capture: {download: {json: download}}
          - name: download
            request: {path: "${download}"}
            expect:
              status: 2xx
              content_type: application/zip
              signature: zip
              size: {smaller_than: upload.sent}
            save: converted.zip
"""


def _gate(config: Path, url: str, reports: Path) -> tuple[subprocess.CompletedProcess[str], dict]:
    command = [
        sys.executable, "-m", "pytest", str(PROJECT_ROOT / "checks"), "-q",
        "-p", "no:cacheprovider",
        "--env", "foreign", "--config", str(config), "--reports-dir", str(reports),
        "--stack-state-dir", str(reports / "no-stack"),
    ]  # fmt: skip
    environ = {**os.environ, "APP_URL": url, "APP_PASSWORD": PASSWORD}
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT, env=environ
    )
    [run_dir] = sorted(reports.glob("*-gate-foreign"))
    return done, json.loads((run_dir / "evidence.json").read_text())


def _flow_check(evidence: dict) -> dict:
    [check] = [c for c in evidence["checks"] if c["id"].endswith("test_flow[convert a file]")]
    return check


def test_a_foreign_upload_journey_passes_the_gate(tmp_path: Path) -> None:
    (tmp_path / "payload.bin").write_bytes(b"compressible payload " * 500)
    config = tmp_path / "opsproof.yaml"
    config.write_text(CONFIG)
    with foreign_app() as url:
        done, evidence = _gate(config, url, tmp_path / "reports")
    assert done.returncode == 0, done.stdout[-3000:]
    assert _flow_check(evidence)["verdict"] == "passed"
    [saved] = (tmp_path / "reports").glob("*/flows/convert-a-file/converted.zip")
    assert saved.read_bytes().startswith(b"PK\x03\x04")


def test_a_failed_foreign_job_fails_fast_with_the_token_masked(tmp_path: Path) -> None:
    (tmp_path / "payload.bin").write_bytes(b"")  # the converter fails an empty upload
    config = tmp_path / "opsproof.yaml"
    config.write_text(CONFIG)
    with foreign_app() as url:
        done, evidence = _gate(config, url, tmp_path / "reports")
    assert done.returncode == 1
    reason = _flow_check(evidence)["reason"]
    assert "step 3/4 'wait' failed: GET http://127.0.0.1:" in reason
    assert 'state reached failure state "FAILED"' in reason
    assert "token=***" in reason and "ticket=T-" in reason
    report = "".join(path.read_text() for path in (tmp_path / "reports").rglob("*.json"))
    assert PASSWORD not in report


def test_a_step_that_expects_a_redirect_judges_it_and_captures_where_it_points(
    tmp_path: Path,
) -> None:
    flow = FlowSpec.model_validate({
        "name": "redirect", "service": "app",
        "steps": [
            {"name": "go", "request": {"path": "/go"},
             "expect": {"status": "3xx"}, "capture": {"where": {"header": "Location"}}},
            {"name": "follow", "request": {"path": "${where}"},
             "expect": {"json": {"ok": True}}},
        ],
    })  # fmt: skip
    with foreign_app() as url:
        service = HttpService.model_validate({"kind": "http", "url": url})
        observation = run_flow(flow, {"app": service}, FlowContext(tmp_path))
    assert observation.ok, observation.reason
    assert observation.figures["1 go: status"].value == 302
    assert "step 2 'follow': GET http://127.0.0.1:" in observation.reason
