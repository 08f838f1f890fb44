"""The plugin as a black box: one run directory with every output, sealed; controls validated
at collection; waivers; change identity; signing and chaining; redaction; xdist merging."""

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from opsproof.evidence.integrity import verify_run
from opsproof.evidence.manifest import read_manifest
from opsproof.evidence.schema import shipped_schema_text
from opsproof.evidence.signing import generate_key_pair, load_public_key

pytest_plugins = ["pytester"]

OUTPUTS = {"evidence.json", "summary.md", "report.html", "report.pdf", "junit.xml"}
WAIVERS = """\
version: 1
waivers:
  - test: "test_lab.py::test_known_issue"
    justification: cipher list is fixed in the next release
    approver: jane@example.com
    risk: low
    ticket: SEC-1
    expires: 2099-01-01T00:00:00Z
"""
EXPIRED = """\
  - control: SOC2:CC8.1
    justification: rendering is being rewritten
    approver: bob@example.com
    risk: high
    ticket: SEC-2
    expires: 2020-01-01T00:00:00Z
"""


def _evidence(run_dir: Path) -> dict[str, object]:
    document: dict[str, object] = json.loads((run_dir / "evidence.json").read_text())
    return document


def _checks(run_dir: Path) -> dict[str, dict[str, object]]:
    checks = _evidence(run_dir)["checks"]
    assert isinstance(checks, list)
    return {check["id"].split("::")[-1].split("[")[0]: check for check in checks}


def test_a_run_writes_every_output_and_seals_it(lab: Callable[..., Any]) -> None:
    run = lab()
    run.result.assert_outcomes(passed=3, failed=2)
    run_dir = run.run_dir
    assert {p.name for p in run_dir.iterdir()} >= OUTPUTS
    Draft202012Validator(json.loads(shipped_schema_text())).validate(_evidence(run_dir))
    results = [
        json.loads(p.read_text()) for p in (run_dir / "allure-results").glob("*-result.json")
    ]
    labels = {(label["name"], label["value"]) for r in results for label in r["labels"]}
    assert {("tag", "SOC2:CC7.2"), ("owner", "team-data"), ("severity", "critical")} <= labels
    cache = _checks(run_dir)["test_cache_answers"]
    assert (cache["severity"], cache["owner"], cache["title"]) == (
        "high", "team-data", "The cache answers PING quickly."
    )  # fmt: skip
    evidence = _evidence(run_dir)
    assert evidence["experiments"][0]["recovery_s"] == 3.2
    assert evidence["drills"][0]["objectives"][0]["rto_achieved_s"] == 312
    manifest = read_manifest(run_dir)
    assert {"evidence.json", "report.pdf", "junit.xml"} <= set(manifest.files)
    assert any(name.startswith("allure-results/") for name in manifest.files)
    assert verify_run(run_dir).ok


def test_controls_in_scope_without_an_executed_check_are_not_evaluated(
    lab: Callable[..., Any],
) -> None:
    run = lab("-k", "cache")
    controls = _evidence(run.run_dir)["controls"]
    assert controls["SOC2:CC7.2"] == "passed"
    # in the DR scope, and nothing evidenced them in this run
    assert controls["NIST800-53:CP-4"] == controls["SOC2:A1.3"] == "not_evaluated"
    assert "passed" not in {
        v for k, v in controls.items() if k != "SOC2:CC7.2" and "A.8.16" not in k
    }


def test_a_planted_secret_is_absent_from_every_file(
    lab: Callable[..., Any], planted_secrets: tuple[str, ...]
) -> None:
    run_dir = lab().run_dir
    texts = {}
    for path in run_dir.rglob("*"):
        if path.is_file():
            texts[path.name] = path.read_bytes().decode(errors="replace")
    pdf_text = subprocess.run(
        ["pdftotext", str(run_dir / "report.pdf"), "-"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    texts["report.pdf as text"] = pdf_text
    assert "render failed" in texts["evidence.json"] and "restore needs" in pdf_text
    assert any("connecting with" in t for t in texts.values())  # captured output is kept...
    for secret in planted_secrets:
        leaks = [name for name, text in texts.items() if secret in text]
        assert leaks == [], f"{secret} leaked into {leaks}"  # ...but masked


def test_an_unknown_control_id_is_a_collection_error_naming_it(
    lab: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_typo="""
        import pytest

        @pytest.mark.control("SOC2:CC7.9")
        def test_a():
            pass

        @pytest.mark.severity("urgent")
        def test_b():
            pass
        """
    )
    run = lab("-n", "2")  # under xdist too: a collection error, not an internal error
    output = run.result.stdout.str()
    assert "ERROR collecting test_typo.py" in output
    assert (
        "test_typo.py::test_a: unknown control id 'SOC2:CC7.9'; did you mean 'SOC2:CC7." in output
    )
    assert (
        "test_typo.py::test_b: severity 'urgent' is not one of: critical, high, medium, low"
        in output
    )
    assert "INTERNALERROR" not in output
    assert run.result.ret != 0


def test_an_active_waiver_turns_a_failure_into_waived(
    lab: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    waivers = pytester.makefile(".yaml", waivers=WAIVERS)
    run = lab("--waivers", str(waivers), "-k", "known_issue or cache")
    assert run.result.ret == 0
    check = _checks(run.run_dir)["test_known_issue"]
    assert (check["verdict"], check["waiver"]) == ("waived", "SEC-1")
    assert "cipher list too long" in check["reason"]
    evidence = _evidence(run.run_dir)
    assert evidence["controls"]["SOC2:CC6.7"] == "waived"
    assert evidence["waivers"][0]["status"] == "active"
    assert evidence["waivers"][0]["applied"] == ["test_lab.py::test_known_issue"]


def test_an_expired_waiver_is_a_hard_failure_whatever_is_selected(
    lab: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    waivers = pytester.makefile(".yaml", waivers=WAIVERS + EXPIRED)
    run = lab("--waivers", str(waivers), "-k", "cache")
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    run.result.stdout.fnmatch_lines(["*waiver SEC-2 for control SOC2:CC8.1 expired 2020-01-01*"])
    expired = _checks(run.run_dir)["expired waiver SEC-2 (SOC2:CC8.1)"]
    assert expired["verdict"] == "failed"
    assert [w["status"] for w in _evidence(run.run_dir)["waivers"]] == ["active", "expired"]


def test_a_bad_waiver_file_stops_the_run_before_anything_is_written(
    lab: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    waivers = pytester.makefile(".yaml", waivers=WAIVERS.replace("00:00:00Z", "00:00:00"))
    run = lab("--waivers", str(waivers))
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    run.result.stderr.fnmatch_lines(
        ["*waivers.yaml:8:14: waivers[[]0[]].expires: * is not in UTC*"]
    )
    assert run.run_dir is None


def test_xdist_workers_merge_into_one_sealed_run_directory(
    lab: Callable[..., Any], pytester: pytest.Pytester
) -> None:
    waivers = pytester.makefile(".yaml", waivers=WAIVERS + EXPIRED)
    run = lab("-n", "2", "--waivers", str(waivers))
    run.result.assert_outcomes(passed=3, failed=2, xfailed=1)
    assert run.run_dir is not None and len(list(run.run_dir.parent.iterdir())) == 1
    checks = _checks(run.run_dir)
    assert len(checks) == 6  # the expired waiver's item ran once, not once per worker
    assert checks["test_known_issue"]["verdict"] == "waived"
    assert checks["test_cache_answers"]["figures"][0]["name"] == "latency_p95_ms"
    evidence = _evidence(run.run_dir)
    assert len(evidence["experiments"]) == len(evidence["drills"]) == 1
    assert len(list((run.run_dir / "allure-results").glob("*-result.json"))) == 6
    assert verify_run(run.run_dir).ok


def test_the_change_identity_comes_from_options_and_the_environment(
    lab: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPSPROOF_CHANGE_VERSION", "2.4.1")
    monkeypatch.setenv("GITHUB_SHA", "from-ci-but-overridden")
    monkeypatch.setenv("GITHUB_ACTOR", "release-bot")
    run = lab("--change-commit", "0a1b2c3", "--operator", "alice", "-k", "cache", kind="gate")
    evidence = _evidence(run.run_dir)
    assert evidence["change"] == {
        "version": "2.4.1", "commit": "0a1b2c3", "deployer": "release-bot", "ticket": ""
    }  # fmt: skip
    assert evidence["operator"] == "alice"
    assert (
        "version **2.4.1** · commit `0a1b2c3` · deployer release-bot"
        in (run.run_dir / "summary.md").read_text()
    )


def test_signed_runs_are_chained_and_verify_against_the_public_key(
    lab: Callable[..., Any], tmp_path: Path
) -> None:
    public = generate_key_pair(tmp_path / "signing.pem")
    first = lab("--signing-key", str(tmp_path / "signing.pem"), "-k", "cache").run_dir
    second = lab("--signing-key", str(tmp_path / "signing.pem"), "-k", "cache").run_dir
    link = read_manifest(second).previous
    assert link is not None and link.run == first.name
    for run_dir in (first, second):
        assert verify_run(run_dir, load_public_key(public)).ok


def test_an_unusable_signing_key_is_a_usage_error(lab: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("not a key")
    run = lab("--signing-key", str(tmp_path / "key.pem"))
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    run.result.stderr.fnmatch_lines(["*key.pem: not an unencrypted Ed25519 private key in PEM*"])
    assert run.run_dir is None


def test_collect_only_writes_no_run_directory(lab: Callable[..., Any]) -> None:
    run = lab("--collect-only")
    assert run.result.ret == 0
    assert run.run_dir is None
