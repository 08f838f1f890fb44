"""Outage accuracy: opsproof's ``outage_s`` against the truth a test-only service records itself;
prints measured minus true (goal: |error| <= 100 ms).

    .venv/bin/python bench/outage.py --runs 10

Each run is a whole chaos experiment (``run_experiment``: steady state, ledger, inject, hold,
revert, recovery) against ``fixtures/timed_service.py``, declared as a process-runtime service
with a start command:

- ``kill, start delay D``: SIGKILL, held 0.5 s, then the revert starts it again and it listens
  D s later. Truth: from the killed instance's last heartbeat (1 ms beats) to the instant the
  new one listens.
- ``pause``: SIGSTOP held for ``--pause`` s (longer than the health check's 0.5 s timeout), then
  SIGCONT. Truth: the gap in the service's own heartbeat.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil

from opsproof.config.loader import load_environment
from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.support.ports import free_ports

SERVICE = Path(__file__).resolve().parents[1] / "fixtures" / "timed_service.py"
START_TIMEOUT = 15.0


class Timed:
    """One instance of the timed service and the truth it wrote."""

    def __init__(self, scratch: Path, delay: float) -> None:
        self.marker = f"opsproof-bench-{uuid.uuid4().hex[:8]}"
        self.port = free_ports(1)[0]
        self.state = scratch / self.marker
        self.state.mkdir()
        self.command = [sys.executable, str(SERVICE), str(self.port), str(self.state),
                        "--delay", str(delay), self.marker]  # fmt: skip
        subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT + delay
        while not self.listening():
            if time.monotonic() > deadline:
                raise SystemExit("the timed service did not start")
            time.sleep(0.02)  # waiting for a process we started; the truth is in its files

    def listening(self) -> list[float]:
        path = self.state / "listening"
        return [float(v) for v in path.read_text().split()] if path.exists() else []

    def pids(self) -> list[int]:
        found = psutil.process_iter(["cmdline"])
        return [p.pid for p in found if self.marker in (p.info["cmdline"] or [])]

    def last_beat(self, pid: int) -> float:
        return float((self.state / f"beat-{pid}").read_text())

    def gaps(self) -> list[tuple[float, float]]:
        path = self.state / "gaps"
        lines = path.read_text().splitlines() if path.exists() else []
        return [(float(a), float(b)) for a, b in (line.split() for line in lines)]

    def stop(self) -> None:
        for pid in self.pids():
            psutil.Process(pid).kill()


def chaos_run(timed: Timed, scratch: Path, fault: str, held: float, interval: float) -> ChaosRun:
    start = ", ".join(f'"{part}"' for part in timed.command)
    config = scratch / f"{timed.marker}.yaml"
    config.write_text(
        "version: 1\nenvironments:\n  bench:\n    chaos: allowed\n    services:\n"
        f"      timed:\n        kind: http\n        url: http://127.0.0.1:{timed.port}\n"
        "        health: {path: /, timeout: 500ms}\n        timeout: 1s\n"
        f"        runtime: {{process: {{match: {timed.marker}, start: [{start}]}}}}\n"
        "    chaos_plan:\n      may_hit: [timed]\n      steady_state: [timed]\n"
        f"      recovery: {{within: 15s, consecutive: 1, interval: {interval}s}}\n"
        "      experiments:\n        - name: bench\n"
        f"          fault: {{action: {fault}, service: timed}}\n          duration: {held}s\n"
    )
    loaded = load_environment(config, "bench")
    return ChaosRun("bench", loaded.environment, scratch, Ledger(ledger_path(scratch)))


def measure(scratch: Path, fault: str, delay: float, held: float, interval: float) -> float:
    """One experiment; measured outage minus the true one, in seconds."""
    timed = Timed(scratch, delay)
    try:
        run = chaos_run(timed, scratch, fault, held, interval)
        assert run.environment.chaos_plan is not None
        (old,) = timed.pids()
        result = run_experiment(run, run.environment.chaos_plan.experiments[0])
        if result.verdict != "passed" or result.outage_s is None:
            raise SystemExit(f"{fault}: {result.verdict}: {result.reason}")
        if fault == "kill":
            truth = timed.listening()[-1] - timed.last_beat(old)
        else:
            ((frozen, thawed),) = timed.gaps()
            truth = thawed - frozen
        return result.outage_s - truth
    finally:
        timed.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--interval", type=float, default=0.05, help="polling interval, s")
    parser.add_argument("--delays", type=float, nargs="+", default=[0.5, 2.0])
    parser.add_argument("--pause", type=float, default=1.5, help="length of the pause, s")
    args = parser.parse_args()
    cases = [("kill", delay, 0.5, f"kill, start delay {delay:g} s") for delay in args.delays]
    cases.append(("pause", 0.0, args.pause, f"pause of {args.pause:g} s"))
    print(f"polling every {args.interval * 1000:g} ms, {args.runs} runs each")
    print(f"{'case':<26} {'median error':>13} {'worst error':>12}")
    with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
        for fault, delay, held, title in cases:
            errors = [
                measure(Path(scratch), fault, delay, held, args.interval) for _ in range(args.runs)
            ]
            worst = max(errors, key=abs)
            print(
                f"{title:<26} {statistics.median(errors) * 1000:>+10.1f} ms "
                f"{worst * 1000:>+9.1f} ms"
            )


if __name__ == "__main__":
    main()
