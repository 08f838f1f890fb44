"""A small opsproof suite run as a black box (pytester): gate checks, a chaos experiment and a DR
drill recorded through the ``evidence`` fixture, with secrets planted where reports could leak
them."""

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from opsproof.evidence.rundir import run_dirs

CONFIG_SECRET = "pw-planted-in-config"
"""Reaches the suite through the config's ${LAB_REDIS_PASSWORD}."""
ENVIRONMENT_SECRET = "tok-planted-in-environment"
"""Only in the process environment, under a secret-looking name."""

UNRELATED_PLUGINS = ("-p", "no:locust", "-p", "no:hypothesispytest")
"""Other tools' pytest plugins: irrelevant to the lab suite, and each xdist worker would spend
seconds importing them."""

CONFIG = """
version: 1
environments:
  lab:
    services:
      cache: {kind: redis, url: "redis://:${LAB_REDIS_PASSWORD}@127.0.0.1:6999/0"}
"""

SUITE = '''
import datetime as dt
import os

import pytest

from opsproof.evidence.records import (
    DrillIssue, DrillPhase, DrillRecord, ExperimentRecord, IntegrityResult, RecoveryObjective,
)
from opsproof.probes.result import Figure, Observation

T0 = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.timezone.utc)
SECRETS = f"{os.environ['LAB_REDIS_PASSWORD']} {os.environ['OPSPROOF_DEMO_TOKEN']}"


@pytest.mark.control("SOC2:CC7.2", "ISO27001:A.8.16")
@pytest.mark.severity("high")
@pytest.mark.owner("team-data")
def test_cache_answers(redis_target, verify):
    """The cache answers PING quickly."""
    figures = {"latency_p95_ms": Figure(3, "ms", "< 100"), "dsn": Figure(redis_target.service.url)}
    verify(lambda: Observation(True, "cache", "fine", figures))


@pytest.mark.control("SOC2:CC8.1")
def test_render(redis_target, verify):
    """Rendering works after the deploy."""
    print(f"connecting with {SECRETS}")
    verify(lambda: Observation(False, "cache", f"render failed ({SECRETS})"))


@pytest.mark.control("SOC2:CC6.7")
def test_known_issue():
    raise AssertionError(f"cipher list too long {SECRETS}")


def test_redis_outage(evidence):
    evidence.record_experiment(ExperimentRecord(
        name="redis killed", hypothesis="/health/deep names redis, then recovers",
        fault=f"SIGKILL redis ({SECRETS})", verdict="passed", target="redis",
        time_to_impact_s=0.4, recovery_s=3.2, recovery_target_s=15,
    ))


def test_restore_drill(evidence):
    step = dt.timedelta(seconds=60)
    evidence.record_drill(DrillRecord(
        scenario="PostgreSQL primary lost", scope=["postgres", "api"],
        objectives=[RecoveryObjective("postgres", 900, 312, 900, 60)],
        phases=[
            DrillPhase("backup", T0, T0 + step),
            DrillPhase("restore", T0 + step, T0 + 5 * step),
            DrillPhase("verify", T0 + 5 * step, T0 + 6 * step, "failed", "one row missing"),
        ],
        integrity=[IntegrityResult("postgres", "row count of jobs", False, "1000", "999")],
        issues=[DrillIssue(f"restore needs a manual step ({SECRETS})", "high", "script it")],
    ))
'''


@pytest.fixture
def planted_secrets() -> tuple[str, ...]:
    return CONFIG_SECRET, ENVIRONMENT_SECRET


@dataclass
class Run:
    result: pytest.RunResult
    run_dir: Path | None


@pytest.fixture
def lab(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """``lab(*pytest_args, kind="dr")`` runs the suite with evidence; returns the run directory."""
    monkeypatch.setenv("LAB_REDIS_PASSWORD", CONFIG_SECRET)
    monkeypatch.setenv("OPSPROOF_DEMO_TOKEN", ENVIRONMENT_SECRET)
    for name in ("GITHUB_SHA", "GITHUB_ACTOR", "CI_COMMIT_SHA", "GITLAB_USER_LOGIN"):
        monkeypatch.delenv(name, raising=False)
    config = pytester.makefile(".yaml", opsproof=CONFIG)
    pytester.makepyfile(test_lab=SUITE)
    reports = pytester.path / "runs"

    def run(*args: str, kind: str = "dr") -> Run:
        before = set(run_dirs(reports))
        result = pytester.runpytest(
            "--config", str(config), "--env", "lab", "--reports-dir", str(reports),
            "--run-kind", kind, "-p", "no:cacheprovider", *args, *UNRELATED_PLUGINS,
        )  # fmt: skip
        new = [path for path in run_dirs(reports) if path not in before]
        return Run(result, new[-1] if new else None)

    return run


CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--enable-logging=stderr", "--v=0",
)  # fmt: skip
CHROMIUM_TIMEOUT = 90.0


@pytest.fixture
def chromium(tmp_path: Path) -> Callable[[Path, Path], list[str]]:
    """``chromium(page, png)`` opens a local page headless, screenshots it, and returns the
    page's console messages (Chromium logs them as ``CONSOLE`` lines)."""
    binary = shutil.which("chromium")
    assert binary, "chromium is missing: run scripts/setup.sh (installs Debian's chromium)"

    def open_page(page: Path, png: Path) -> list[str]:
        done = subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}",
             "--window-size=1280,2400", f"--screenshot={png}", page.as_uri()],
            capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, check=False,
        )  # fmt: skip
        assert png.is_file(), f"no screenshot:\n{done.stderr[-3000:]}"
        return [line for line in done.stderr.splitlines() if ":CONSOLE" in line]

    return open_page
