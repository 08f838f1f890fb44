"""An API opsproof did not start, declared only in YAML, probed through the gate as a user runs
it: a login step fetches the token, an endpoint documented as authenticated answers without it,
and the evidence names the finding under access control with a curl line and no token."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.contract.defect_app import PASSWORD, TOKEN, serving
from tests.project import PROJECT_ROOT

CONFIG = """\
version: 1
environments:
  staging:
    services:
      shop:
        kind: http
        url: {url}
        health: {{path: /items/1}}
        api_contract:
          examples: 10
          budget: 20s
          exclude: {{paths: [/search]}}
          auth:
            steps:
              - name: log in
                request:
                  method: POST
                  path: /login
                  json: {{user: gate, password: "${{SHOP_PASSWORD}}"}}
                capture: {{token: {{json: access_token}}}}
            headers: {{Authorization: "Bearer ${{token}}"}}
"""


def test_an_endpoint_open_without_credentials_fails_access_control(tmp_path: Path) -> None:
    config = tmp_path / "opsproof.yaml"
    reports = tmp_path / "reports"
    with serving("open_secret") as (url, calls):
        config.write_text(CONFIG.format(url=url))
        command = [
            sys.executable, "-m", "pytest", str(PROJECT_ROOT / "checks"), "-q",
            "-p", "no:cacheprovider", "-p", "no:schemathesis", "--env", "staging",
            "--config", str(config), "--reports-dir", str(reports),
            "--stack-state-dir", str(tmp_path / "state"), "-k", "test_api_",
        ]  # fmt: skip
        environ = {**os.environ, "SHOP_PASSWORD": PASSWORD}
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=120, cwd=tmp_path, env=environ
        )
    assert done.returncode == 1, done.stdout[-3000:]
    [run_dir] = reports.iterdir()
    evidence = json.loads((run_dir / "evidence.json").read_text())
    checks = {c["id"].partition("::")[2]: c for c in evidence["checks"]}
    access = checks["test_api_access[shop GET /private/report without credentials]"]
    assert access["verdict"] == "failed"
    assert "- auth_required: API accepts requests without authentication" in access["reason"]
    assert f"reproduce: curl -X GET {url}/private/report" in access["reason"]
    assert evidence["controls"]["SOC2:CC6.1"] == "failed"
    assert checks["test_api_contract[shop GET /private/report]"]["verdict"] == "passed"
    assert checks["test_api_contract[shop GET /items/{item_id}]"]["verdict"] == "passed"
    assert checks["test_api_contract[shop POST /items]"]["verdict"] == "not_applicable"
    assert "test_api_contract[shop GET /search]" not in checks  # excluded
    assert calls.count("POST /login") == 1
    written = b"".join(path.read_bytes() for path in run_dir.rglob("*") if path.is_file())
    assert TOKEN.encode() not in written and PASSWORD.encode() not in written
