"""Evidence files: the JSON is a faithful dump, the summary puts failures first, both redacted."""

import json
from datetime import UTC, datetime
from pathlib import Path

from opsproof.evidence.model import CheckRecord, FigureRecord, RunRecord
from opsproof.evidence.redact import Redactor
from opsproof.evidence.rundir import create_run_dir
from opsproof.evidence.writers import render_markdown, write_json, write_markdown


def _run() -> RunRecord:
    return RunRecord(
        kind="gate",
        environment="staging",
        config_file="opsproof.yaml",
        started_at="2026-11-23T01:00:00+00:00",
        finished_at="2026-11-23T01:00:05+00:00",
        opsproof_version="0.1.0",
        exit_status=1,
        checks=[
            CheckRecord(
                "checks/test_tls.py::test_certificate_expiry[api]",
                "passed",
                0.1,
                ["SOC2:CC6.7"],
                [FigureRecord("days_to_expiry", 89, "days", ">= 14")],
            ),
            CheckRecord(
                "checks/test_redis.py::test_redis_ping[redis]",
                "failed",
                0.2,
                ["SOC2:CC7.2", "SOC2:CC6.7"],
                reason="redis://:hunter22@127.0.0.1:6390: PING failed",
            ),
        ],
    )


def test_json_has_totals_controls_and_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    write_json(_run(), path, Redactor(["hunter22"]))
    document = json.loads(path.read_text())
    assert document["schema_version"] == 1
    assert document["totals"] == {"passed": 1, "failed": 1, "error": 0, "skipped": 0}
    assert document["controls"] == {"SOC2:CC6.7": "failed", "SOC2:CC7.2": "failed"}
    assert document["checks"][0]["figures"][0]["target"] == ">= 14"
    assert "hunter22" not in path.read_text()


def test_markdown_lists_failures_first_with_reasons(tmp_path: Path) -> None:
    text = render_markdown(_run())
    assert text.startswith("# opsproof gate — staging: FAILED")
    failures = text.index("## Failures")
    assert failures < text.index("test_certificate_expiry")
    assert "days_to_expiry=89 days (target >= 14)" in text
    path = tmp_path / "summary.md"
    write_markdown(_run(), path, Redactor())
    assert "hunter22" not in path.read_text()


def test_run_dirs_are_unique_and_named_for_sorting(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    first = create_run_dir(tmp_path, "gate", "prod/eu", moment)
    second = create_run_dir(tmp_path, "gate", "prod/eu", moment)
    assert first.name == "20261123T010203Z-gate-prod_eu"
    assert second.name == "20261123T010203Z-gate-prod_eu.1"
