"""Accuracy: p50/p95/p99 as opsproof reports them (HDR, merged over two workers) and as bare
Locust reports them, against the server-side truth of a server with a known latency
distribution (log-normal, median 40 ms; tests/load/latency_server.py).

    .venv/bin/python bench/load_accuracy.py --runs 5

Each run sends ``--rate`` requests per second for ``--seconds`` (constant-arrival-rate, VUs to
spare, so no request waits for a VU) and compares with the times the server measured itself
(request read to answer written), so the error includes the network and the client: Locust
times around its own Python work, opsproof times on the wire as k6 does
(opsproof/load/locust/wire_timing.py). Goal: ≤ 1% error at ≥ 10 ms.
"""

import argparse
import json
import select
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from bare_locust import LOCUSTFILE, run_bare_locust

from opsproof.load.plan import LoadTarget
from opsproof.load.profile import profile_from_dict
from opsproof.load.runner import RunSettings, run_profile

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "load" / "latency_server.py"
PERCENTILES = (50.0, 95.0, 99.0)
TIMEOUT = 10.0


def _truth(url: str, skip: int) -> list[float]:
    with urllib.request.urlopen(f"{url}/truth", timeout=TIMEOUT) as answer:
        served: list[float] = json.loads(answer.read())
    return served[skip:]


def _exact(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), round(percent / 100 * len(ordered) + 0.5)) - 1)]


def _opsproof(url: str, rate: int, seconds: int, scratch: Path) -> dict[float, float]:
    options = {
        "scenarios": {
            "bench": {
                "executor": "constant-arrival-rate", "rate": rate, "duration": f"{seconds}s",
                "preAllocatedVUs": rate // 2, "maxVUs": rate, "exec": "DistUser",
            }
        }
    }  # fmt: skip
    out = Path(tempfile.mkdtemp(dir=scratch))
    result = run_profile(
        profile_from_dict(options), LoadTarget(host=url, timeout=5), RunSettings(LOCUSTFILE, out)
    )
    if result.errors:
        raise SystemExit(f"opsproof run failed: {result.errors}")
    trend = result.metrics.trends["http_req_duration"]
    return {p: trend.percentile_ms(p) for p in PERCENTILES}


def _bare_locust(url: str, users: int, seconds: int, scratch: Path) -> dict[float, float]:
    row = run_bare_locust("DistUser", url, users, seconds, scratch)
    return {p: float(row[f"{p:g}%"]) for p in PERCENTILES}


def _errors(reported: dict[float, float], truth: list[float]) -> dict[float, float]:
    return {p: abs(reported[p] - _exact(truth, p)) / _exact(truth, p) for p in PERCENTILES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=100)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(SERVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert server.stdin is not None and server.stdout is not None
    ready, _, _ = select.select([server.stdout], [], [], TIMEOUT)
    url = server.stdout.readline().strip() if ready else ""
    errors: dict[str, dict[float, list[float]]] = {
        name: {p: [] for p in PERCENTILES} for name in ("opsproof", "bare locust")
    }
    try:
        with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
            for _ in range(args.runs):
                for name in errors:
                    skip = len(_truth(url, 0))
                    if name == "opsproof":
                        reported = _opsproof(url, args.rate, args.seconds, Path(scratch))
                    else:  # closed model: ~rate/25 users each waiting ~40 ms give the same rate
                        reported = _bare_locust(url, args.rate // 25, args.seconds, Path(scratch))
                    truth = _truth(url, skip)
                    for p, error in _errors(reported, truth).items():
                        errors[name][p].append(error)
                    shown = ", ".join(
                        f"p{p:g} {reported[p]:.3f}/{_exact(truth, p):.3f}" for p in PERCENTILES
                    )
                    print(f"{name:<12} reported/truth ms: {shown} ({len(truth)} requests)")
    finally:
        server.stdin.close()
        server.wait(timeout=TIMEOUT)
    for name, by_percentile in errors.items():
        medians = ", ".join(f"p{p:g} {statistics.median(v):.3%}" for p, v in by_percentile.items())
        print(f"{name:<12} median relative error vs server truth: {medians}")


if __name__ == "__main__":
    main()
