"""The gate, run as a user runs it (``pytest checks --env hostile --config FILE``), against the
hostile peer declared only in YAML: every item fails within its deadline + 0.5 s, the run's
peak RSS stays bounded by the body cap, and no report holds a control byte."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.project import PROJECT_ROOT

DEADLINE_S = 1.0
SLACK_S = 0.5
MIB = 1 << 20
GROWTH_SLACK_MIB = 32
"""What a raised body cap may add beyond the cap itself: decoding pieces and buffers, never a
second copy of the body."""
RUN_TIMEOUT = 300.0
REPORTS = ("summary.md", "report.html", "evidence.json", "junit.xml")
# C0 controls but the line breaks and tab every text file has, DEL and the C1 controls (UTF-8).
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")

# Measures the peak RSS of the gate alone: this wrapper's only child is the gate's process.
_PEAK_RSS = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))
sys.stdout.write(done.stdout + done.stderr)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
sys.stdout.write(f"\\nPEAK_RSS_BYTES={peak} EXIT={done.returncode}\\n")
"""

HOSTILE_PATHS = [
    "/trickle-headers", "/trickle-body", "/lying-length", "/short-close", "/huge",
    "/huge-declared", "/gzip-bomb", "/header-flood", "/header-huge", "/redirect-loop",
    "/redirect-chain", "/redirect-elsewhere", "/json-control", "/json-deep", "/text-control",
]  # fmt: skip
SIZE_PATHS = ["/huge", "/huge-declared", "/gzip-bomb"]
SMOKE_PATHS = ["/json-control", "/json-deep", "/gzip-bomb", "/trickle-body"]


def hostile_config(
    path: Path,
    peers: tuple[str, str, str],
    *,
    max_body: str | None = None,
    deadline_s: float = DEADLINE_S,
    paths: list[str] = HOSTILE_PATHS,
    tls: bool = True,
) -> Path:
    """A config whose one environment declares the hostile endpoints as a user would."""
    url, silent_tls, trickling_tls = peers
    deadline = f"{deadline_s:g}s"
    cap = {} if max_body is None else {"max_body": max_body}
    http = {"kind": "http", "timeout": deadline, **cap}
    services: dict[str, Any] = {
        name.strip("/").replace("-", "_"): {
            **http, "url": url,
            "health": {"path": name, "timeout": deadline, "expect_json": {"status": "ok"}},
        }
        for name in paths
    }  # fmt: skip
    services["bomb_metrics"] = {
        **http, "url": url, "health": None,
        "metrics": {"path": "/gzip-bomb", "names": ["up"]},
    }  # fmt: skip
    for name, tls_url in (("silent_tls", silent_tls), ("trickling_tls", trickling_tls)) * tls:
        services[name] = {
            **http, "url": tls_url, "tls": {}, "health": {"path": "/", "timeout": deadline},
        }  # fmt: skip
    services["prometheus"] = {
        "kind": "prometheus",
        "url": url + "/huge",
        "timeout": deadline,
        **cap,
    }
    smoke = [
        {"name": f"GET {p} answers JSON", "service": "bomb_metrics", "request": {"path": p},
         "expect": {"json": {"status": "ok"}}}
        for p in SMOKE_PATHS if p in paths
    ]  # fmt: skip
    alertmanager = {"url": url + paths[0], "timeout": deadline, **cap}
    environment = {
        "services": services,
        "smoke": smoke,
        "monitoring": {"prometheus": "prometheus", "alertmanager": alertmanager},
    }
    document = {"version": 1, "environments": {"hostile": environment}}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def run_gate(config: Path, reports: Path) -> tuple[str, int, dict[str, Any], Path]:
    """Run the gate in a subprocess; its output, peak RSS, evidence and run directory."""
    command = [
        sys.executable, "-c", _PEAK_RSS, str(RUN_TIMEOUT),
        sys.executable, "-m", "pytest", str(PROJECT_ROOT / "checks"),
        "--env", "hostile", "--config", str(config), "--reports-dir", str(reports),
        "-p", "no:cacheprovider", "-q",
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=RUN_TIMEOUT + 30, cwd=PROJECT_ROOT
    )
    found = re.search(r"PEAK_RSS_BYTES=(\d+) EXIT=(-?\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert int(found[2]) == pytest.ExitCode.TESTS_FAILED, done.stdout
    (run_dir,) = reports.iterdir()
    evidence = json.loads((run_dir / "evidence.json").read_text())
    return done.stdout, int(found[1]), evidence, run_dir


def judged(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in evidence["checks"] if c["verdict"] in ("passed", "failed")]


@pytest.fixture
def peers(hostile: Any, silent_tls: Any, trickling_tls: Any) -> tuple[str, str, str]:
    return hostile.url, silent_tls.url, trickling_tls.url


def all_failed_in_time(evidence: dict[str, Any], deadline_s: float) -> list[dict[str, Any]]:
    """The judged items, asserted failed, each within its deadline + 0.5 s."""
    checks = judged(evidence)
    slow = [(c["id"], c["duration_s"]) for c in checks if c["duration_s"] > deadline_s + SLACK_S]
    assert not slow, slow
    passed = [(c["id"], c["reason"]) for c in checks if c["verdict"] != "failed"]
    assert not passed, passed
    return checks


def test_gate_against_a_hostile_peer_is_bounded_and_its_reports_are_clean(
    peers: tuple[str, str, str], tmp_path: Path
) -> None:
    config = hostile_config(tmp_path / "hostile.yaml", peers)

    output, peak, evidence, run_dir = run_gate(config, tmp_path / "reports")

    checks = all_failed_in_time(evidence, DEADLINE_S)
    assert len(checks) >= 30, [c["id"] for c in checks]
    reasons = "\n".join(c["reason"] for c in checks)
    for says in (
        "headers not complete within 1s",
        "body: > 4 MiB allowed (max_body)",
        "headers: 10,000 > 100 allowed",
        "redirect loop: /redirect-loop → /redirect-loop/b → /redirect-loop (2 redirects)",
        "TLS handshake not complete within 1s",
        "\\x00\\x1b[2J",
    ):
        assert says in reasons, says
    assert "Traceback" not in output
    slowest = max(c["duration_s"] for c in checks)
    print(f"default caps: peak RSS {peak / MIB:.0f} MiB, slowest item {slowest:.2f} s")
    assert peak < 300 * MIB, f"peak RSS {peak / MIB:.0f} MiB"
    for name in REPORTS:
        dirty = CONTROL.findall((run_dir / name).read_bytes())
        assert not dirty, f"{name}: {dirty[:5]}"


def test_a_raised_cap_grows_the_run_by_the_cap_and_no_more(
    peers: tuple[str, str, str], tmp_path: Path
) -> None:
    # Decompressing 64 MiB takes about a second here: a deadline that lets the cap be reached.
    def size_config(name: str, **caps: Any) -> Path:
        return hostile_config(
            tmp_path / f"{name}.yaml", peers, deadline_s=10.0, paths=SIZE_PATHS, tls=False, **caps
        )

    # The same run at the default cap is the baseline: what the process needs besides bodies
    # (the interpreter, pytest, opsproof's imports) is not what this test judges.
    _, baseline, _, _ = run_gate(size_config("default"), tmp_path / "default")
    _, peak, evidence, _ = run_gate(size_config("raised", max_body="64MiB"), tmp_path / "raised")

    reasons = "\n".join(c["reason"] for c in all_failed_in_time(evidence, 10.0))
    assert "body: > 64 MiB allowed (max_body)" in reasons
    assert "once gzip-decoded" in reasons
    grown = peak - baseline
    print(f"max_body 4 MiB → 64 MiB: peak RSS {baseline / MIB:.0f} → {peak / MIB:.0f} MiB")
    assert grown < (64 - 4 + GROWTH_SLACK_MIB) * MIB, f"grew {grown / MIB:.0f} MiB"
