"""Time the full deploy gate against a running reference stack: serial vs pytest-xdist.

    .venv/bin/python bench/gate.py --runs 5

Starts the reference stack if needed (and stops it afterwards only if it started it), runs the
gate ``--runs`` times each way in this process's machine state, and prints the medians and the
xdist/serial ratio. The gate's own evidence goes to a temporary directory.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from opsproof.paths import SHIPPED_CONFIG, SUITES
from opsproof.runtimes.launched import default_state_dir
from opsproof.stack.launcher import start_stack, stop_stack

RUN_TIMEOUT = 300.0


def _time_gate(state_dir: Path, reports: Path, workers: int) -> float:
    command = [
        sys.executable, "-m", "pytest", str(SUITES["gate"]), "-q",
        "--env", "reference", "--config", str(SHIPPED_CONFIG),
        "--stack-state-dir", str(state_dir), "--reports-dir", str(reports),
    ]  # fmt: skip
    if workers:
        command += ["-n", str(workers)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"gate failed (exit {done.returncode}):\n{done.stdout[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--state-dir", type=Path, default=default_state_dir())
    args = parser.parse_args()
    _, started_here = start_stack(args.state_dir)
    try:
        with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
            reports = Path(scratch)
            _time_gate(args.state_dir, reports, 0)  # warm-up: imports, connections, page cache
            serial = [_time_gate(args.state_dir, reports, 0) for _ in range(args.runs)]
            parallel = [_time_gate(args.state_dir, reports, args.workers) for _ in range(args.runs)]
    finally:
        if started_here:
            stop_stack(args.state_dir)
    serial_median, parallel_median = statistics.median(serial), statistics.median(parallel)
    for label, runs, median in (
        ("serial", serial, serial_median),
        (f"xdist -n{args.workers}", parallel, parallel_median),
    ):
        print(f"{label:<10} median {median:.2f}s  runs {[round(r, 2) for r in runs]}")
    print(f"ratio xdist/serial {parallel_median / serial_median:.2f}")


if __name__ == "__main__":
    main()
