"""``opsproof run chaos`` end to end: experiments run through pytest and land in evidence."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from opsproof.evidence.verdict import INCONCLUSIVE_EXIT
from opsproof.runtimes.launched import StackState
from opsproof.support.ports import free_ports
from tests.reports.test_oscal import load_oscal

WriteConfig = Callable[..., Path]
PLAN = """\
may_hit: [redis]
recovery: {within: 15s, consecutive: 3}
experiments:
  - name: redis killed
    fault: {action: kill, service: redis}
    expect:
      - service: api
        request: {method: GET, path: /health/deep}
        expect: {status: 503, json: {failed: [redis]}, max_latency: 1s}
        within: 1s
"""


def test_run_chaos_writes_experiment_evidence(
    healthy_stack: StackState, stack_dir: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    reports = tmp_path / "runs"
    command = [
        sys.executable, "-m", "opsproof.cli", "run", "chaos", "--env", "lab",
        "--config", str(write_config(PLAN)), "--state-dir", str(stack_dir),
        "--reports-dir", str(reports),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    (run_dir,) = reports.iterdir()
    assert run_dir.name.endswith("-chaos-lab")
    evidence = json.loads((run_dir / "evidence.json").read_text())
    (experiment,) = evidence["experiments"]
    assert experiment["verdict"] == "passed" and experiment["fault"] == "SIGKILL process://redis"
    assert 0 < experiment["time_to_impact_s"] <= 1 and experiment["recovery_target_s"] == 15
    (check,) = evidence["checks"]
    figures = {f["name"]: f for f in check["figures"]}
    assert figures["recovery_s"]["target"] == "<= 15"
    # the experiment as an auditor's tool reads it (compliance-trestle's OSCAL models)
    results = load_oscal(run_dir / "oscal")["assessment-results.json"].results[0]
    states = {f.target.title: f.target.status.state.value for f in results.findings}
    assert states["SOC2:A1.2"] == "satisfied" and len(results.observations) == 1


STEADY_FAILS = """\
may_hit: [redis]
steady_state: [api, dead]
recovery: {within: 5s, consecutive: 2}
experiments:
  - name: redis killed
    fault: {action: kill, service: redis}
"""


def test_a_run_that_injected_nothing_is_inconclusive_in_every_format_and_history(
    healthy_stack: StackState, stack_dir: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    """The steady state fails (a dead dependency), so nothing is injected: the run proves
    nothing. It exits 6, every format says INCONCLUSIVE, and neither it nor a dry run counts
    as the nightly run in the history."""
    dead = f"dead: {{kind: redis, url: 'redis://127.0.0.1:{free_ports(1)[0]}/0', timeout: 0.5s}}\n"
    config = write_config(STEADY_FAILS, extra_services=dead)
    reports = tmp_path / "runs"
    base = [
        sys.executable, "-m", "opsproof.cli", "run", "chaos", "--env", "lab",
        "--config", str(config), "--state-dir", str(stack_dir), "--reports-dir", str(reports),
    ]  # fmt: skip
    real = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert real.returncode == INCONCLUSIVE_EXIT, real.stdout + real.stderr
    dry = subprocess.run([*base, "--", "--dry-run"], capture_output=True, text=True, timeout=120)
    assert dry.returncode == INCONCLUSIVE_EXIT, dry.stdout + dry.stderr
    first, second = sorted(reports.iterdir())
    evidence = json.loads((first / "evidence.json").read_text())
    assert evidence["verdict"] == "inconclusive" and evidence["exit_status"] == INCONCLUSIVE_EXIT
    (experiment,) = evidence["experiments"]
    assert experiment["verdict"] == "not_injected" and experiment["recovery_s"] is None
    (check,) = evidence["checks"]
    assert check["verdict"] == "inconclusive" and "nothing injected" in check["reason"]
    assert "# opsproof chaos — lab: INCONCLUSIVE" in (first / "summary.md").read_text()
    html = (first / "report.html").read_text()
    assert 'class="badge inconclusive">INCONCLUSIVE<' in html and "PASSED" not in html
    dry_evidence = json.loads((second / "evidence.json").read_text())
    assert dry_evidence["dry_run"] and dry_evidence["verdict"] == "inconclusive"
    assert dry_evidence["checks"][0]["verdict"] == "not_evaluated"
    assert "INCONCLUSIVE (dry run)" in (second / "summary.md").read_text()
    history = subprocess.run(
        [sys.executable, "-m", "opsproof.cli", "report", "history", "--reports-dir", str(reports)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert history.stdout.count("(not counted toward a schedule)") == 2, history.stdout
