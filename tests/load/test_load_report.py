"""A load run in its report: the chart drawn inline, and a run where most requests failed says
why, by name (39 of 40 answered 429 is a rate limit, not a missing route)."""

import json
from datetime import UTC, datetime
from pathlib import Path

from opsproof.evidence.catalogue import load_catalogue
from opsproof.evidence.html import ReportContext, render_html
from opsproof.evidence.model import RunRecord
from opsproof.load.profile import profile_from_dict
from opsproof.load.runner import RunSettings
from opsproof.load.suite import SUMMARY_FILE, execute, load_record
from opsproof.load.target import LoadTarget


def _upload(path: str, iterations: int) -> dict[str, object]:
    request = {"name": "upload", "request": {"method": "POST", "path": path},
               "expect": {"status": 202}}  # fmt: skip
    return {"executor": "shared-iterations", "vus": 1, "iterations": iterations,
            "requests": [request]}  # fmt: skip


def test_a_run_where_most_requests_failed_shows_why_in_the_report(
    server_url: str, tmp_path: Path
) -> None:
    scenarios = {"limited": _upload("/status/429", 39), "one": _upload("/status/202", 1)}
    options = {"scenarios": scenarios}
    profile = profile_from_dict(options, "journey")
    settings = RunSettings(locustfile=Path(__file__).with_name("locustfile.py"), out_dir=tmp_path)
    run = execute(profile, LoadTarget(host=server_url, timeout=5.0), settings)
    assert not run.result.errors
    record = load_record(run)
    (upload,) = record.names
    assert (upload.requests, upload.failures) == (40, 39)
    assert upload.statuses == {"202": 1, "429": 39}
    assert upload.errors == {"status mismatch": 39}
    assert upload.examples["status mismatch"] == "expected status 202, got 429"
    summary = json.loads((tmp_path / SUMMARY_FILE).read_text())
    assert summary["breakdown"][0]["statuses"] == {"202": 1, "429": 39}  # the run's JSON too

    moment = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)
    report = RunRecord(
        kind="load", environment="lab", config_file="opsproof.yaml", started_at=moment,
        finished_at=moment, opsproof_version="0", exit_status=1, checks=[], loads=[record],
    )  # fmt: skip
    html = render_html(report, ReportContext("run", load_catalogue(), [], []))
    section = html[html.index("Load run: journey") :]
    assert "<svg" in section[: section.index("Requests by name")]  # the chart, inline
    assert "429 ×39" in section and "202 ×1" in section
    assert "<b>status mismatch</b> ×39" in section and "expected status 202, got 429" in section
