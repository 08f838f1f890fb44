"""The pytest plugin as a black box (pytester): inert unless asked, validates controls up front,
parametrizes targets from the config with readable ids, and writes evidence for an --env run."""

import json
from pathlib import Path

import pytest

from opsproof.evidence.verdict import INCONCLUSIVE_EXIT

pytest_plugins = ["pytester"]

CONFIG = """
version: 1
environments:
  lab:
    services:
      cache: {kind: redis, url: "redis://:${LAB_REDIS_PASSWORD}@127.0.0.1:6999/0"}
      web: {kind: http, url: "http://127.0.0.1:9/", health: {path: /healthz}}
"""


@pytest.fixture
def lab(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LAB_REDIS_PASSWORD", "pw-never-in-reports")
    return pytester.makefile(".yaml", opsproof=CONFIG)


def test_plugin_is_inert_for_ordinary_suites(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()


def test_targets_are_parametrized_with_readable_ids(pytester: pytest.Pytester, lab: Path) -> None:
    pytester.makepyfile(
        """
        def test_redis(redis_target):
            assert redis_target.name == "cache"

        def test_live(liveness_target):
            assert liveness_target.check.path == "/healthz"
        """
    )
    result = pytester.runpytest("--config", str(lab), "--env", "lab", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "*test_redis[[]redis://127.0.0.1:6999/0[]]",
            "*test_live[[]GET http://127.0.0.1:9/healthz[]]",
        ]
    )
    assert "pw-never-in-reports" not in result.stdout.str()


def test_undeclared_targets_are_not_applicable_not_failures(
    pytester: pytest.Pytester, lab: Path
) -> None:
    pytester.makepyfile("def test_pg(postgres_target):\n    raise AssertionError\n")
    reports = pytester.path / "runs"
    result = pytester.runpytest("--config", str(lab), "--env", "lab", "--reports-dir", str(reports))
    result.assert_outcomes(skipped=1)
    assert result.ret == INCONCLUSIVE_EXIT  # nothing was exercised: never a pass
    (run_dir,) = reports.iterdir()
    evidence = json.loads((run_dir / "evidence.json").read_text())
    (check,) = evidence["checks"]
    assert check["verdict"] == "not_applicable" and "declares nothing" in check["reason"]
    assert evidence["verdict"] == "inconclusive" and evidence["totals"]["not_applicable"] == 1
    junit = (run_dir / "junit.xml").read_text()
    assert '<property name="opsproof.verdict" value="not_applicable"' in junit
    (allure_result,) = (run_dir / "allure-results").glob("*-result.json")
    labels = json.loads(allure_result.read_text())["labels"]
    assert {"name": "opsproof.verdict", "value": "not_applicable"} in labels


def test_evidence_records_outcomes_controls_and_figures(
    pytester: pytest.Pytester, lab: Path
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from opsproof.probes.result import Figure, Observation

        @pytest.mark.control("SOC2:CC7.2")
        def test_up(redis_target, verify):
            figures = {"latency_ms": Figure(3, "ms", "< 100")}
            verify(lambda: Observation(True, "cache", "fine", figures))

        @pytest.mark.control("SOC2:CC8.1")
        def test_down(redis_target, verify):
            verify(lambda: Observation(False, "cache", "cache is down (pw-never-in-reports)"))
        """
    )
    reports = pytester.path / "runs"
    result = pytester.runpytest("--config", str(lab), "--env", "lab", "--reports-dir", str(reports))
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*cache is down*"])
    assert "Traceback" not in result.stdout.str()
    (run_dir,) = reports.iterdir()
    assert run_dir.name.endswith("-gate-lab")
    evidence = json.loads((run_dir / "evidence.json").read_text())
    by_name = {c["id"].split("::")[1].split("[")[0]: c for c in evidence["checks"]}
    assert by_name["test_up"]["figures"] == [
        {"name": "latency_ms", "value": 3, "unit": "ms", "target": "< 100"}
    ]
    assert by_name["test_down"]["verdict"] == "failed"
    controls = evidence["controls"]
    assert {k: controls[k] for k in ("SOC2:CC7.2", "SOC2:CC8.1")} == {
        "SOC2:CC7.2": "passed",
        "SOC2:CC8.1": "failed",
    }
    for name in ("evidence.json", "summary.md", "junit.xml"):
        assert "pw-never-in-reports" not in (run_dir / name).read_text()


def test_malformed_control_id_is_a_collection_error(pytester: pytest.Pytester, lab: Path) -> None:
    pytester.makepyfile(
        "import pytest\n@pytest.mark.control('CC7.2')\ndef test_x(redis_target):\n    pass\n"
    )
    result = pytester.runpytest("--config", str(lab), "--env", "lab", "--no-evidence")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "CC7.2" in result.stdout.str()


def test_config_error_is_reported_before_anything_runs(
    pytester: pytest.Pytester, lab: Path
) -> None:
    lab.write_text(lab.read_text().replace("health:", "helth:"))
    line = next(n for n, text in enumerate(lab.read_text().splitlines(), 1) if "helth" in text)
    pytester.makepyfile("def test_x(redis_target):\n    pass\n")
    result = pytester.runpytest("--config", str(lab), "--env", "lab")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert f"opsproof.yaml:{line}:" in output
    assert ".services.web.helth: unknown key; did you mean 'health'" in output
    assert "Traceback" not in output
