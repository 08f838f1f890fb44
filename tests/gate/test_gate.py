"""The deploy gate, end to end against the real reference stack: it passes when the stack is
healthy, and each check fails — with a reason naming the culprit — when what it guards breaks."""

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from opsproof.paths import SHIPPED_CONFIG
from opsproof.runtimes.launched import StackState
from tests.project import PROJECT_ROOT

pytestmark = pytest.mark.stack


def _reference_with(tmp_path: Path, change: Callable[[dict[str, object]], None]) -> Path:
    """A copy of the shipped config whose reference environment is changed by ``change``."""
    document = yaml.safe_load(SHIPPED_CONFIG.read_text())
    change(document["environments"]["reference"])
    path = tmp_path / "opsproof.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_gate_passes_on_the_healthy_stack(gate, reference_stack: StackState) -> None:
    run = gate()
    assert run.returncode == 0, run.output
    totals = run.evidence["totals"]
    assert totals["failed"] == 0
    assert totals["passed"] >= 20
    assert run.evidence["environment"] == "reference"
    expiry = run.check("test_certificate_expiry")
    assert expiry["figures"][0]["name"] == "days_to_expiry"
    assert "SOC2:CC6.7" in expiry["controls"]
    assert all(v == "passed" for v in run.evidence["controls"].values())
    assert run.run_dir is not None
    for name in ("evidence.json", "summary.md", "junit.xml"):
        assert (run.run_dir / name).is_file()
    # secrets of the stack never reach any evidence file
    password = reference_stack.values["postgres.password"].encode()
    for path in run.run_dir.rglob("*"):
        assert not path.is_file() or password not in path.read_bytes()


def test_redis_down_fails_dependency_and_deep_health_naming_redis(gate, component_down) -> None:
    with component_down("redis"):
        run = gate("-k", "redis or deep_health or postgres_connect")
    assert run.returncode == 1
    ping = run.check("test_redis_ping")
    assert ping["verdict"] == "failed"
    assert "redis" in ping["reason"].lower()
    deep = run.check("test_deep_health")
    assert deep["verdict"] == "failed"
    assert "redis" in deep["reason"]
    assert run.check("test_postgres_connect[")["verdict"] == "passed"
    assert "Traceback" not in run.output


def test_postgres_down_fails_its_checks_naming_postgres(gate, component_down) -> None:
    with component_down("postgres"):
        run = gate("-k", "postgres_connect or deep_health")
    assert run.returncode == 1
    assert run.check("test_postgres_connect[")["verdict"] == "failed"
    assert "postgres" in run.check("test_deep_health")["reason"]


def test_certificate_inside_the_threshold_fails_tls(gate, tmp_path: Path) -> None:
    def demand_a_long_validity(env: dict[str, object]) -> None:
        env["services"]["api"]["tls"]["min_days"] = 3650

    run = gate("-k", "tls", config=_reference_with(tmp_path, demand_a_long_validity))
    expiry = run.check("test_certificate_expiry")
    assert expiry["verdict"] == "failed"
    assert "3650" in expiry["reason"]
    assert run.check("test_certificate_chain")["verdict"] == "passed"


def test_smoke_step_with_a_wrong_expectation_shows_expected_and_actual(
    gate, tmp_path: Path
) -> None:
    def expect_wrong_status(env: dict[str, object]) -> None:
        env["smoke"][0]["expect"]["status"] = 201

    run = gate("-k", "smoke", config=_reference_with(tmp_path, expect_wrong_status))
    step = run.check("liveness answers JSON")
    assert step["verdict"] == "failed"
    assert "201" in step["reason"] and "200" in step["reason"]
    assert run.check("render returns a PNG")["verdict"] == "passed"


def test_unreachable_target_is_a_failed_check_with_reason_not_a_hang(gate, tmp_path: Path) -> None:
    def point_at_a_closed_port(env: dict[str, object]) -> None:
        env["services"]["redis"]["url"] = "redis://127.0.0.1:1/0"
        env["services"]["redis"]["timeout"] = "1s"

    started = time.monotonic()
    run = gate("-k", "redis_ping", config=_reference_with(tmp_path, point_at_a_closed_port))
    assert time.monotonic() - started < 60
    ping = run.check("test_redis_ping")
    assert ping["verdict"] == "failed"
    assert "127.0.0.1:1" in ping["reason"]
    assert "Traceback" not in run.output


def test_config_error_stops_before_anything_runs(gate, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(SHIPPED_CONFIG.read_text().replace("expect_role:", "expect_rol:"))
    run = gate(config=config)
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "bad.yaml:" in run.output and "did you mean 'expect_role'" in run.output
    assert run.run_dir is None
    assert "Traceback" not in run.output


def test_a_selected_subset_is_recorded_as_a_partial_run_everywhere(gate) -> None:
    """An auditor reading a ``-k`` run can tell it was not the whole gate: the selection and the
    deselected count are in the evidence, every format says partial, and the history does not
    count it as a gate run."""
    run = gate("-k", "redis_ping")
    assert run.returncode == 0, run.output
    assert run.run_dir is not None
    selection = run.evidence["selection"]
    assert selection["keyword"] == "redis_ping" and selection["deselected"] >= 20
    assert run.evidence["verdict"] == "passed"
    summary = (run.run_dir / "summary.md").read_text()
    assert "# opsproof gate — reference: PASSED (partial)" in summary
    assert "-k 'redis_ping'" in summary and "deselected" in summary
    assert "PASSED (partial)" in (run.run_dir / "report.html").read_text()
    history = subprocess.run(
        [sys.executable, "-m", "opsproof.cli", "report", "history",
         "--reports-dir", str(run.run_dir.parent)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "PASSED (partial)" in history.stdout
    assert "(not counted toward a schedule)" in history.stdout


JOURNEYS = PROJECT_ROOT / "examples" / "journeys.yaml"


def test_journeys_example_passes_the_gate_and_keeps_the_download(gate) -> None:
    run = gate("-k", "flow", config=JOURNEYS)
    assert run.returncode == 0, run.output
    upload = run.check("test_flow[an uploaded drawing is rendered and downloaded]")
    assert upload["verdict"] == "passed"
    names = {figure["name"] for figure in upload["figures"]}
    assert "2 wait for the worker: poll_s" in names
    assert run.check("test_flow[a malformed drawing fails cleanly]")["verdict"] == "passed"
    assert run.run_dir is not None
    saved = run.run_dir / "flows" / "an-uploaded-drawing-is-rendered-and-downloaded" / "drawing.png"
    assert saved.read_bytes().startswith(b"\x89PNG")
    manifest = json.loads((run.run_dir / "manifest.json").read_text())
    assert any("drawing.png" in str(entry) for entry in manifest["files"])


def test_a_failing_flow_fails_the_gate_naming_the_step(gate, tmp_path: Path) -> None:
    document = yaml.safe_load(JOURNEYS.read_text())
    flows = document["environments"]["reference"]["flows"]
    flows[0]["steps"][2]["expect"]["status"] = "5xx"
    config = JOURNEYS.parent / f".test-gate-{tmp_path.name}.yaml"
    config.write_text(yaml.safe_dump(document, sort_keys=False))
    try:
        run = gate("-k", "flow", config=config)
    finally:
        config.unlink()
    assert run.returncode == 1
    failed = run.check("test_flow[an uploaded drawing is rendered and downloaded]")
    assert failed["verdict"] == "failed"
    assert "step 3/3 'download the PNG' failed" in failed["reason"]
    assert "expected status 5xx, got 200" in failed["reason"]
    assert "Traceback" not in run.output
