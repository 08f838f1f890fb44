"""What the OSCAL documents add to writing a run's evidence: a 500-item run, with and without.

    .venv/bin/python bench/oscal_export.py --rounds 15

Runs a real 500-item suite once (pytest with opsproof's plugin: controls, figures, a few failures
and a waiver) to get its evidence, junit.xml and allure-results/. Then, in alternating order per
round, times what a run does at its end — write_reports (evidence.json, summary.md,
report.html) and seal (redaction of junit.xml and allure-results/, then the manifest) — without
and with the OSCAL documents, each on a fresh copy of that run's files. Prints the medians and
the overhead; the goal is at most 10 %.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from opsproof.config.loader import load_environment
from opsproof.evidence.bundle import seal, write_reports
from opsproof.evidence.catalogue import load_catalogue
from opsproof.evidence.manifest import sha256_file
from opsproof.evidence.oscal.system import describe_environment
from opsproof.evidence.oscal.write import OscalSource, write_oscal
from opsproof.evidence.upgrade import upgrade
from opsproof.evidence.writers import RUN
from opsproof.support.redact import Redactor

ITEMS = 500
RUN_TIMEOUT = 600.0
CONFIG = """\
version: 1
environments:
  bench:
    services:
      cache: {kind: redis, url: "redis://127.0.0.1:6999/0"}
"""
WAIVERS = """\
version: 1
waivers:
  - test: "test_bench.py::test_item[7]"
    justification: known flaky probe
    approver: jane@example.com
    risk: low
    ticket: BENCH-1
    expires: 2099-01-01T00:00:00Z
"""
SUITE = f"""
import pytest

CONTROLS = ["SOC2:CC7.2", "SOC2:A1.1", "ISO27001:A.8.16", "ISO27001:A.8.6", "SOC2:CC6.1"]


@pytest.mark.parametrize("n", range({ITEMS}))
def test_item(n, evidence, request):
    '''One runbook step with a measured figure.'''
    request.node.add_marker(pytest.mark.control(CONTROLS[n % len(CONTROLS)]))
    evidence.figure("latency_p95_ms", 3 + n % 40, "ms", "< 100")
    assert n % 50 != 7, f"step {{n}} failed: 503 from /health/deep"
"""


def _make_run(scratch: Path) -> Path:
    (scratch / "opsproof.yaml").write_text(CONFIG)
    (scratch / "waivers.yaml").write_text(WAIVERS)
    (scratch / "test_bench.py").write_text(textwrap.dedent(SUITE))
    reports = scratch / "runs"
    command = [
        sys.executable, "-m", "pytest", "test_bench.py", "-q", "-p", "no:cacheprovider",
        "--env", "bench", "--config", "opsproof.yaml", "--reports-dir", str(reports),
        "--waivers", "waivers.yaml",
    ]  # fmt: skip
    subprocess.run(command, cwd=scratch, capture_output=True, timeout=RUN_TIMEOUT, check=False)
    (run_dir,) = reports.iterdir()
    return run_dir


def _timer(template: Path, scratch: Path) -> Callable[[bool, int], tuple[float, float]]:
    run = RUN.validate_python(upgrade(json.loads((template / "evidence.json").read_bytes())))
    catalogue = load_catalogue()
    system = describe_environment(load_environment(scratch / "opsproof.yaml", "bench"))
    redactor = Redactor({"pw-not-in-any-file"})

    def time_once(with_oscal: bool, index: int) -> tuple[float, float]:
        """The whole end of the run; and, after a run without OSCAL, the OSCAL step alone on
        the same files (writing the documents and the manifest's hashing of them)."""
        run_dir = scratch / f"round-{index}-{with_oscal}" / "runs" / template.name
        run_dir.mkdir(parents=True)
        shutil.copy(template / "junit.xml", run_dir / "junit.xml")
        shutil.copytree(template / "allure-results", run_dir / "allure-results")
        started = time.perf_counter()
        recorded = write_reports(run, run_dir, catalogue, redactor)
        oscal = OscalSource(recorded, catalogue, system) if with_oscal else None
        seal(run_dir, run.kind, run.environment, redactor, None, oscal)
        elapsed = time.perf_counter() - started
        assert (run_dir / "oscal").is_dir() == with_oscal
        if with_oscal:
            return elapsed, 0.0
        started = time.perf_counter()
        source = OscalSource(recorded, catalogue, system)
        for path in write_oscal(run_dir, source, run_dir / "oscal-alone"):
            sha256_file(path)
        return elapsed, time.perf_counter() - started

    return time_once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsproof-bench-oscal-") as tmp:
        scratch = Path(tmp)
        template = _make_run(scratch)
        checks = len(json.loads((template / "evidence.json").read_text())["checks"])
        time_once = _timer(template, scratch)
        time_once(True, -1)  # warm-up: imports, templates, page cache
        time_once(False, -1)
        timings: dict[bool, list[float]] = {False: [], True: []}
        alone: list[float] = []
        for index in range(args.rounds):
            for with_oscal in (index % 2 == 0, index % 2 == 1):
                elapsed, oscal = time_once(with_oscal, index)
                timings[with_oscal].append(elapsed)
                if not with_oscal:
                    alone.append(oscal / elapsed)
    without, with_ = statistics.median(timings[False]), statistics.median(timings[True])
    # paired: each round's two runs share the machine's state of the moment
    paired = statistics.median(w - o for w, o in zip(timings[True], timings[False], strict=True))
    print(f"{checks}-item run, {args.rounds} rounds, median time to write and seal its evidence:")
    print(f"  without OSCAL  {without * 1000:8.1f} ms")
    print(f"  with OSCAL     {with_ * 1000:8.1f} ms")
    print(
        f"  overhead       {paired * 1000:8.1f} ms = {paired / without:+.1%} (median of the "
        "rounds' differences)"
    )
    print(
        f"  OSCAL step     {statistics.median(alone):+.1%} of the same round's evidence time "
        "(timed alone on that round's files: less exposed to other load)"
    )


if __name__ == "__main__":
    main()
