"""The ``load/`` suite as users run it: ``opsproof run load`` against the reference stack with
the runbook profile time-scaled, each threshold its own JUnit test case, the chart in the run
directory; environments that have not opted in are refused before any traffic."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import yaml

from opsproof.paths import SHIPPED_CONFIG
from opsproof.runtimes.launched import StackState
from tests.project import PROJECT_ROOT

RUN_TIMEOUT = 150.0


def _opsproof(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "opsproof.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, cwd=cwd)


def _config(tmp_path: Path, load: str) -> Path:
    document = {
        "version": 1,
        "environments": {
            "lab": {
                "load": load,
                "services": {"api": {"kind": "http", "url": "http://127.0.0.1:9"}},
            }
        },
    }
    path = tmp_path / "opsproof.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_an_environment_without_load_allowed_is_refused(tmp_path: Path) -> None:
    config = _config(tmp_path, "forbidden")
    done = _opsproof(
        "run", "load", "--env", "lab", "--config", str(config), "--reports-dir", str(tmp_path)
    )
    assert done.returncode == 4, done.stderr  # pytest's usage error
    assert "does not allow load" in done.stderr and "load: allowed" in done.stderr
    assert not list(tmp_path.glob("*/locust-*.log"))  # no generator was started


def test_a_broken_profile_is_a_usage_error_naming_its_line(tmp_path: Path) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("vus: 2\nduration: 10s\nthresholds:\n  http_req_failed: ['p(95)<1']\n")
    config = _config(tmp_path, "allowed")
    done = _opsproof(
        "run", "load", "--env", "lab", "--config", str(config), "--reports-dir", str(tmp_path),
        "--", "--load-profile", str(profile),
    )  # fmt: skip
    assert done.returncode == 4
    assert (
        f"{profile}:4:" in done.stderr and "p(N) does not apply to http_req_failed" in done.stderr
    )


@pytest.mark.stack
@pytest.mark.alone  # its thresholds hold with the stack's 2 cores to itself, not beside other tests
def test_opsproof_run_load_runs_the_runbook_ramp_against_the_reference_stack(
    reference_stack: StackState, tmp_path: Path
) -> None:
    state_dir = Path(reference_stack.values["state_file"]).parent
    done = _opsproof(
        "run", "load", "--config", str(SHIPPED_CONFIG), "--state-dir", str(state_dir),
        "--reports-dir", str(tmp_path), "--", "--load-time-scale", "0.01", "-q",
    )  # fmt: skip
    output = done.stdout + done.stderr
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.endswith("-load-reference")
    cases = {
        case.get("name"): case for case in ElementTree.parse(run_dir / "junit.xml").iter("testcase")
    }
    assert set(cases) == {
        "test_load_run",
        "test_regression[none]",  # not applicable: no --load-baseline
        "test_threshold[http_req_duration:p(95)<500]",
        "test_threshold[http_req_duration:p(99)<1000]",
        "test_threshold[http_req_failed:rate<0.01]",
    }
    assert done.returncode == 0, output
    assert "load [default]" in output and "vus  200" in output  # live progress reached the peak
    evidence = json.loads((run_dir / "evidence.json").read_text())
    run_check = next(c for c in evidence["checks"] if c["id"].endswith("test_load_run"))
    figures = {f["name"]: f["value"] for f in run_check["figures"]}
    assert figures["vus_max"] == 200 and figures["http_reqs"] > 500 and figures["chart"]
    chart = ElementTree.parse(run_dir / "load-chart.svg").getroot()
    assert chart.tag.endswith("svg") and "p95" in (run_dir / "load-chart.svg").read_text()


def test_a_flow_the_environment_lacks_is_a_usage_error_naming_the_profiles_line(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "profile.yaml"
    profile.write_text("vus: 1\nduration: 1s\nflow: checkout\n")
    config = _config(tmp_path, "allowed")
    done = _opsproof(
        "run", "load", "--env", "lab", "--config", str(config), "--reports-dir", str(tmp_path),
        "--", "--load-profile", str(profile),
    )  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert f"{profile}:3:7: flow: 'checkout' is not a flow of this environment" in done.stderr
    assert not list(tmp_path.glob("*/locust-*.log"))  # no generator was started


@pytest.mark.stack
def test_the_journey_profile_runs_config_only_with_per_name_thresholds_and_a_breakdown(
    reference_stack: StackState, tmp_path: Path
) -> None:
    state_dir = Path(reference_stack.values["state_file"]).parent
    profile = PROJECT_ROOT / "load" / "profiles" / "journey.yaml"
    done = _opsproof(
        "run", "load", "--config", str(SHIPPED_CONFIG), "--state-dir", str(state_dir),
        "--reports-dir", str(tmp_path), "--", "--load-profile", str(profile),
        "--load-time-scale", "0.03", "-q",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = tmp_path.iterdir()
    cases = {case.get("name") for case in ElementTree.parse(run_dir / "junit.xml").iter("testcase")}
    assert "test_threshold[http_req_duration{name:upload}:p(95)<1000]" in cases
    assert "test_threshold[http_req_failed{name:upload}:rate<0.01]" in cases
    (load,) = json.loads((run_dir / "evidence.json").read_text())["loads"]
    names = {row["name"]: row for row in load["names"]}
    assert set(names) == {"health", "validate", "upload", "unknown upload"}
    assert set(names["upload"]["statuses"]) == {"202"}  # the upload was sent, multipart
    assert set(names["unknown upload"]["statuses"]) == {"404"}
    assert all(row["failures"] == 0 for row in names.values())
    report = (run_dir / "report.html").read_text()
    assert "Requests by name" in report and report.count("<svg") >= 1
