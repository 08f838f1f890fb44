"""``--load-baseline`` as users run it, against the latency server: a baseline, a run with 30 ms
injected into one endpoint (only that name's item fails; every request together fails too, as
its p95 is that name's), an identical rerun that passes against ``previous`` (the newest
*passed* run, not the slowed one), and a baseline of another shape refused with its reason."""

import json
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

RUN_TIMEOUT = 120.0
PROFILE = {
    # a scenario per name, each VU pacing itself: a slow name does not slow the other
    "scenarios": {
        name: {
            "executor": "constant-vus",
            "vus": 2,
            "duration": "5s",
            "gracefulStop": "2s",
            "sleep": "50ms",
            "requests": [{"name": name, "request": {"path": path}}],
        }
        for name, path in (("plain", "/echo/plain"), ("slowed", "/slowed/x"))
    },
    "thresholds": {"http_req_failed": ["rate<0.5"]},
    "regression": {"p50": "100%", "p95": "200%", "p99": "300%", "throughput": "60%"},
}


@pytest.fixture
def delay(server_url: str) -> Iterator[None]:
    yield
    urllib.request.urlopen(f"{server_url}/delay/0", timeout=5).read()


def _files(tmp_path: Path, server_url: str) -> tuple[Path, Path]:
    config = tmp_path / "opsproof.yaml"
    environment = {"load": "allowed", "services": {"api": {"kind": "http", "url": server_url}}}
    config.write_text(yaml.safe_dump({"version": 1, "environments": {"lab": environment}}))
    profile = tmp_path / "steady.yaml"
    profile.write_text(yaml.safe_dump(PROFILE))
    return config, profile


def _run(tmp_path: Path, server_url: str, *options: str) -> tuple[int, str, Path | None]:
    config, profile = _files(tmp_path, server_url)
    reports = tmp_path / "reports"
    before = set(reports.iterdir()) if reports.is_dir() else set()
    command = [
        sys.executable, "-m", "opsproof.cli", "run", "load", "--env", "lab",
        "--config", str(config), "--reports-dir", str(reports),
        "--", "--load-profile", str(profile), "--load-workers", "1", "-q", *options,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    new = sorted(set(reports.iterdir()) - before) if reports.is_dir() else []
    return done.returncode, done.stdout + done.stderr, new[-1] if new else None


def _cases(run_dir: Path) -> dict[str, bool]:
    """Each regression item's name → passed."""
    tree = ElementTree.parse(run_dir / "junit.xml")
    return {
        str(case.get("name")): case.find("failure") is None
        for case in tree.iter("testcase")
        if str(case.get("name")).startswith("test_regression")
    }


def _baseline_of(run_dir: Path) -> str:
    evidence = json.loads((run_dir / "evidence.json").read_text())
    check = next(c for c in evidence["checks"] if "test_regression[plain]" in c["id"])
    return next(f["value"] for f in check["figures"] if f["name"] == "baseline")


@pytest.mark.alone  # judges latency against an earlier run: beside two busy workers it failed twice
def test_a_slowed_endpoint_fails_its_own_item_and_a_rerun_passes_against_the_previous_run(
    tmp_path: Path, server_url: str, delay: None
) -> None:
    status, output, first = _run(tmp_path, server_url, "--load-baseline", "previous")
    assert status == 0 and first is not None, output  # nothing earlier: not applicable
    assert _cases(first) == {"test_regression[none]": True}

    urllib.request.urlopen(f"{server_url}/delay/30", timeout=5).read()
    status, output, slowed = _run(tmp_path, server_url, "--load-baseline", "previous")
    assert status == 1 and slowed is not None, output
    assert _cases(slowed) == {
        "test_regression[all requests]": False,  # its p95 is the slowed name's
        "test_regression[plain]": True,
        "test_regression[slowed]": False,
    }, output
    assert "slowed: p50 rose" in output and "noise bound" in output, output
    summary = (slowed / "summary.md").read_text()
    assert f"## Load run against the baseline {first.name}" in summary
    assert "| slowed | p50 |" in summary and "| **regressed** |" in summary
    report = (slowed / "report.html").read_text()
    assert "Against the baseline" in report and "baseline p95" in report  # table, overlay

    urllib.request.urlopen(f"{server_url}/delay/0", timeout=5).read()
    status, output, rerun = _run(tmp_path, server_url, "--load-baseline", "previous")
    assert status == 0 and rerun is not None, output
    assert set(_cases(rerun).values()) == {True}
    assert _baseline_of(rerun) == first.name  # the newest passed run, not the slowed one

    status, output, _ = _run(
        tmp_path, server_url, "--load-baseline", str(first), "--load-time-scale", "0.5"
    )
    assert status == 4, output
    assert f"{first} is refused as a baseline: its time scale 1 is not this run's 0.5" in output
