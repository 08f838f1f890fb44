"""Evidence files: the JSON is a faithful dump, the summary puts failures first and fits a PR
comment, both redacted; run directories sort by time."""

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from opsproof.evidence.model import CHECK_VERDICTS, CheckRecord, RunRecord
from opsproof.evidence.rundir import create_run_dir, run_dirs, series_of
from opsproof.evidence.writers import (
    MAX_SUMMARY_CHARS,
    redact_tree,
    render_markdown,
    write_json,
    write_markdown,
)
from opsproof.support.redact import Redactor


def test_json_has_totals_controls_and_no_secret(
    tmp_path: Path, run: RunRecord, secret: str
) -> None:
    path = tmp_path / "evidence.json"
    write_json(run, path, Redactor([secret]))
    document = json.loads(path.read_text())
    assert document["schema_version"] == 3
    assert document["totals"] == {**dict.fromkeys(CHECK_VERDICTS, 0), "passed": 1, "failed": 1}
    assert document["controls"]["SOC2:A1.1"] == "not_evaluated"
    assert document["checks"][0]["figures"][0]["target"] == ">= 14"
    assert document["checks"][1]["severity"] == "high"
    assert secret not in path.read_text()


def test_markdown_lists_failures_first_with_reasons(
    tmp_path: Path, run: RunRecord, secret: str
) -> None:
    text = render_markdown(run)
    assert text.startswith("# opsproof gate — staging: FAILED")
    assert text.index("## Failures") < text.index("test_certificate_expiry")
    assert "days_to_expiry = 89 days (target >= 14)" in text
    assert "Change: version **not given**" in text  # a gate names its change, or says it has none
    assert "⬜ not_evaluated" in text
    path = tmp_path / "summary.md"
    write_markdown(run, path, Redactor())
    assert secret not in path.read_text()  # URL passwords are masked without being registered


def test_summary_of_a_huge_run_fits_a_pull_request_comment(run: RunRecord) -> None:
    many = [
        CheckRecord(f"checks/test_x.py::test_{n}[{'x' * 80}]", "passed", 0.1) for n in range(3000)
    ]
    text = render_markdown(replace(run, checks=run.checks + many, totals={}))
    assert len(text) < MAX_SUMMARY_CHARS
    assert "more checks in evidence.json" in text
    assert "test_redis_ping" in text  # failures are never cut


def test_run_dirs_are_unique_and_sorted_by_time(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 23, 1, 2, 3, tzinfo=UTC)
    first = create_run_dir(tmp_path, "gate", "prod/eu", moment)
    second = create_run_dir(tmp_path, "gate", "prod/eu", moment)
    earlier = create_run_dir(tmp_path, "gate", "prod/eu", moment.replace(hour=0))
    other = create_run_dir(tmp_path, "chaos", "prod/eu", moment)
    (tmp_path / "index.html").write_text("not a run")
    assert first.name == "20261123T010203Z-gate-prod_eu"
    assert second.name == "20261123T010203Z-gate-prod_eu.1"
    assert run_dirs(tmp_path, "gate-prod_eu") == [earlier, first, second]
    assert run_dirs(tmp_path) == [earlier, other, first, second]
    assert series_of(second) == "gate-prod_eu"


def test_files_written_by_other_plugins_are_redacted_in_place(tmp_path: Path, secret: str) -> None:
    (tmp_path / "a").mkdir()
    text_file = tmp_path / "a" / "result.json"
    text_file.write_text(f'{{"message": "login {secret} failed"}}')
    image = tmp_path / "shot.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" + secret.encode())
    redact_tree(tmp_path, Redactor([secret]))
    assert secret not in text_file.read_text()
    assert image.read_bytes().endswith(secret.encode())  # binary files are left alone
