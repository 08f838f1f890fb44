"""Config load time against file size, 1 KB → 1 MB: the loader must be linear.

    .venv/bin/python bench/config_load.py --runs 5

Four shapes of file, each written at 1 KB, 10 KB, 100 KB and 1 MB and loaded in full
(read, parse, every environment validated, the chosen one interpolated and validated, secrets
scanned): many environments like the shipped one; one environment with many smoke steps; one
long plain value; one long URL-like value (the two shapes the old URL-password scan was
quadratic on: 80 KB of letters took 6.3 s). Each load is timed in CPU seconds, best of
``--runs``, with the parse memo cleared, and reported as µs per KB: a linear loader keeps
that figure flat from 10 KB up (the 1 KB point carries the fixed cost of a load).
"""

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from opsproof.config import loader
from opsproof.config.loader import load_environment

SIZES = [1_000, 10_000, 100_000, 1_000_000]
HEAD = "version: 1\nenvironments:\n"
ENVIRONMENT = """\
  env{n}:
    description: an environment like the shipped one
    services:
      api:
        kind: http
        url: https://api{n}.example.com:8443
        headers: {{X-Api-Key: "key-{n}"}}
        health: {{path: /health, expect_json: {{status: ok}}}}
        deep_health: {{path: /health/deep, expect_json: {{status: healthy}}}}
        tls: {{min_days: 14}}
      redis: {{kind: redis, url: "redis://:pw{n}@10.0.0.5:6379/0", expect_role: master}}
      postgres: {{kind: postgres, dsn: "postgresql://app:pw{n}@10.0.0.6:5432/app"}}
      host: {{kind: host, backend: "ssh://deploy@app{n}", private_ports: [6379, 5432]}}
    smoke:
      - name: liveness
        service: api
        request: {{method: GET, path: /health}}
        expect: {{status: 200, json: {{status: ok}}, max_latency: 500ms}}
    convergence: {{timeout: 60s, interval: 2s}}
    slo: {{latency_p95: 500ms, error_rate: 0.01, rto: 15m, rpo: 15m}}
"""
STEP = """\
      - name: step {n}
        service: api
        request: {{method: POST, path: /api/jobs/{n}, json: {{dsl: "size 8 8"}}}}
        expect: {{status: 202, max_latency: 1s}}
"""
ONE = "  env0:\n    services:\n      api: {kind: http, url: 'http://127.0.0.1:8000'}\n"


def repeated(unit: Callable[[int], str], head: str, size: int) -> str:
    parts, total, n = [head], len(head), 0
    while total < size:
        parts.append(unit(n))
        total += len(parts[-1])
        n += 1
    return "".join(parts)


def long_value(prefix: str) -> Callable[[int], str]:
    def text(size: int) -> str:
        head = HEAD + ONE + f"    description: '{prefix}"
        return head + "a" * max(0, size - len(head) - 3) + "'\n"

    return text


SHAPES: dict[str, Callable[[int], str]] = {
    "environments": lambda size: repeated(lambda n: ENVIRONMENT.format(n=n), HEAD, size),
    "smoke steps": lambda size: repeated(
        lambda n: STEP.format(n=n), HEAD + ONE + "    smoke:\n", size
    ),
    "long value": long_value(""),
    "long URL-like value": long_value("x://"),
}


def best_cpu_seconds(path: Path, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        loader._parse_once.cache_clear()  # time the parse too, every run
        started = time.process_time()
        load_environment(path, "env0", environ={}, stack=lambda: None)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="loads per point; the best counts")
    runs = parser.parse_args().runs
    print(f"{'shape':<20} {'size':>9} {'load (CPU s)':>13} {'µs per KB':>10}")
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "opsproof.yaml"
        for shape, build in SHAPES.items():
            per_kb = []
            for size in SIZES:
                text = build(size)
                path.write_text(text)
                seconds = best_cpu_seconds(path, runs)
                per_kb.append(seconds * 1e6 / (len(text.encode()) / 1000))
                print(f"{shape:<20} {len(text.encode()):>9,} {seconds:>13.4f} {per_kb[-1]:>10.1f}")
            print(f"{'':<20} 1 MB / 10 KB cost per KB: {per_kb[-1] / per_kb[1]:.2f} (linear: ~1)")


if __name__ == "__main__":
    main()
