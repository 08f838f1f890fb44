"""Soak: does a long load run keep the generator's memory bounded? A constant-arrival-rate
scenario (the benchmarks' StaticUser) runs against a local nginx for ``--minutes``; every
minute the resident memory (RSS) of the Locust master and of each worker is sampled.

    .venv/bin/python bench/load_soak.py --minutes 30 --out /tmp/soak.md

Writes a Markdown table (minute, master RSS, worker RSSs) and a verdict: each process's growth
from minute ``--from-minute`` (start-up and warm-up done) to the last minute must stay under
``--bound-mib``. Everything is local and bounded: the run stops by itself after its schedule
(plus opsproof's own time bound), and nginx is stopped on the way out.
"""

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from bare_locust import LOCUSTFILE
from load_efficiency import _nginx

from opsproof.load.plan import LoadTarget
from opsproof.load.profile import profile_from_dict
from opsproof.load.result import LoadResult
from opsproof.load.runner import RunSettings, run_profile

MIB = 1 << 20


def _generators() -> dict[str, psutil.Process]:
    """This process's Locust master and workers, by role."""
    found: dict[str, psutil.Process] = {}
    workers = 0
    for child in psutil.Process().children(recursive=True):
        try:
            command = child.cmdline()
        except psutil.Error:
            continue
        if "locust" not in command:
            continue
        if "--master" in command:
            found["master"] = child
        elif "--worker" in command:
            found[f"worker {workers}"] = child
            workers += 1
    return found


def _rss_mib(process: psutil.Process) -> float | None:
    try:
        return float(process.memory_info().rss) / MIB
    except psutil.Error:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--rate", type=int, default=200, help="iterations per second")
    parser.add_argument("--from-minute", type=int, default=5)
    parser.add_argument("--bound-mib", type=float, default=8.0)
    parser.add_argument("--out", type=Path, default=Path("load-soak.md"))
    args = parser.parse_args()
    scenario = {
        "executor": "constant-arrival-rate", "rate": args.rate, "timeUnit": "1s",
        "duration": f"{args.minutes * 60 + 30}s", "preAllocatedVUs": 20, "maxVUs": 40,
        "exec": "StaticUser", "gracefulStop": "0s",
    }  # fmt: skip
    profile = profile_from_dict({"scenarios": {"soak": scenario}})
    rows: list[tuple[int, dict[str, float | None]]] = []
    with tempfile.TemporaryDirectory(prefix="opsproof-soak-") as scratch:
        nginx, url = _nginx(Path(scratch))
        outcome: list[LoadResult] = []
        try:
            out = Path(scratch) / "run"
            settings = RunSettings(LOCUSTFILE, out, max_requests=10**9)
            runner = threading.Thread(
                target=lambda: outcome.append(
                    run_profile(profile, LoadTarget(host=url, timeout=5), settings)
                ),
                daemon=True,
            )
            runner.start()
            started = time.monotonic()
            processes: dict[str, psutil.Process] = {}
            for minute in range(args.minutes + 1):
                wait = started + minute * 60 - time.monotonic()
                runner.join(timeout=max(0.0, wait))
                if not runner.is_alive():
                    break
                processes = processes if len(processes) == 3 else _generators()
                rows.append((minute, {role: _rss_mib(p) for role, p in processes.items()}))
                print(f"minute {minute}: {rows[-1][1]}", flush=True)
            runner.join(timeout=args.minutes * 60 + 300)
            files = sorted(p.name for p in out.iterdir())
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    result = outcome[0] if outcome else None
    args.out.write_text(_report(rows, result, files, args))
    print(args.out.read_text())


def _report(
    rows: list[tuple[int, dict[str, float | None]]],
    result: LoadResult | None,
    files: list[str],
    args: argparse.Namespace,
) -> str:
    roles = sorted({role for _, sample in rows for role in sample}, key=lambda r: r != "master")
    lines = [
        "| minute | " + " | ".join(f"{r} RSS (MiB)" for r in roles) + " |",
        "|---" * (len(roles) + 1) + "|",
    ]
    for minute, sample in rows:
        cells = [f"{v:.1f}" if (v := sample.get(r)) is not None else "-" for r in roles]
        lines.append(f"| {minute} | " + " | ".join(cells) + " |")
    verdicts, passed = [], bool(rows)
    for role in roles:
        series = {m: v for m, s in rows if (v := s.get(role)) is not None}
        later = [m for m in series if m >= args.from_minute]
        if not later:
            verdicts.append(f"{role}: no sample after minute {args.from_minute}")
            passed = False
            continue
        growth = series[max(later)] - series[min(later)]
        passed = passed and growth < args.bound_mib
        verdicts.append(f"{role} {growth:+.1f} MiB (minute {min(later)} to {max(later)})")
    requests = int(result.metrics.counters["http_reqs"][0]) if result else 0
    seconds = len(result.timeline) if result else 0
    p95 = statistics.median(s.p95 for s in result.timeline if s.p95) if seconds and result else 0
    lines += [
        "",
        f"Verdict: {'PASS' if passed else 'FAIL'}: growth from minute {args.from_minute} to the "
        f"end under {args.bound_mib:g} MiB per process: " + "; ".join(verdicts) + ".",
        f"Run: {requests} requests at {args.rate}/s, {seconds} seconds in the timeline "
        f"(median per-second p95 {p95:.2f} ms), errors: {result.errors if result else 'none'}; "
        f"run directory: {', '.join(files)}.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
