"""Generator efficiency: requests per generator CPU-second against the same nginx static file,
for opsproof (Locust master + workers, gated, HDR) running a user class and running the same
request as a config-only scenario, bare Locust FastHttpUser (master + the same workers) and wrk.

    .venv/bin/python bench/load_efficiency.py --runs 5

A round runs opsproof and bare Locust **at the same time**, each with its own nginx, each pinned
to its own core (the cores swapped every round), for ``--seconds`` with ``--users`` concurrent
users; then the config-only scenario beside bare Locust the same way. On a shared VM a run's
rate swings by ±15% from one minute to the next with the host's load: runs one after the other
saw different machines, and five such rounds could not tell 0.86 from 0.93. Side by side, both
see the same minute. CPU is what each generator's processes used (reaped children's rusage), so
nginx's never counts; it includes start-up (imports, with opsproof's bytecode compiled first, as
Locust's is), which 60 s runs amortize as real load tests do. The figure is the median of the
rounds' ratios opsproof/bare. wrk runs once, on both cores, for scale.
Goal: opsproof ≥ 0.9× bare Locust.
"""

import argparse
import compileall
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bare_locust import LOCUSTFILE, TIMEOUT_SLACK, run_bare_locust

import opsproof
from opsproof.load.plan import LoadTarget
from opsproof.load.profile import profile_from_dict
from opsproof.load.runner import RunSettings, run_profile

Generator = Callable[[str, int, int, Path], int]
"""(url, users, seconds, scratch) → requests made."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measure(run: Callable[[], int]) -> tuple[int, float]:
    """Requests a generator made, and the CPU seconds its processes used."""
    before = _children_cpu()
    requests = run()
    return requests, _children_cpu() - before


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _nginx(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    (root / "html").mkdir()
    (root / "html" / "static.txt").write_text("opsproof benchmark\n" * 8)
    conf = root / "nginx.conf"
    conf.write_text(
        f"""daemon off; worker_processes 1; pid {root}/nginx.pid; error_log {root}/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; client_body_temp_path {root}; proxy_temp_path {root};
  fastcgi_temp_path {root}; uwsgi_temp_path {root}; scgi_temp_path {root};
  keepalive_requests 1000000;
  server {{ listen 127.0.0.1:{port}; root {root}/html; }} }}
"""
    )
    process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(root)])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("nginx did not start")


def _opsproof(url: str, users: int, seconds: int, scratch: Path) -> int:
    return _run_opsproof(url, scratch, {
        "executor": "constant-vus", "vus": users, "duration": f"{seconds}s",
        "exec": "StaticUser", "gracefulStop": "0s",
    })  # fmt: skip


def _opsproof_requests(url: str, users: int, seconds: int, scratch: Path) -> int:
    """The same request as a config-only scenario: no Python, its status judged."""
    request = {"name": "static", "request": {"path": "/static.txt"}, "expect": {"status": 200}}
    return _run_opsproof(url, scratch, {
        "executor": "constant-vus", "vus": users, "duration": f"{seconds}s",
        "requests": [request], "gracefulStop": "0s",
    })  # fmt: skip


def _run_opsproof(url: str, scratch: Path, scenario: dict[str, object]) -> int:
    options = {"scenarios": {"bench": scenario}}
    out = Path(tempfile.mkdtemp(dir=scratch))
    result = run_profile(
        profile_from_dict(options), LoadTarget(host=url, timeout=5), RunSettings(LOCUSTFILE, out)
    )
    if result.errors:
        raise SystemExit(f"opsproof run failed: {result.errors}")
    return int(result.metrics.counters["http_reqs"][0])


def _bare_locust(url: str, users: int, seconds: int, scratch: Path) -> int:
    return int(run_bare_locust("StaticUser", url, users, seconds, scratch)["Request Count"])


def _wrk(url: str, users: int, seconds: int, scratch: Path) -> int:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{users}", f"-d{seconds}s", f"{url}/static.txt"],
        capture_output=True, text=True, timeout=seconds + TIMEOUT_SLACK, check=True,
    )  # fmt: skip
    match = re.search(r"(\d+) requests in", done.stdout)
    assert match, done.stdout
    return int(match.group(1))


GENERATORS: dict[str, Generator] = {
    "opsproof": _opsproof,
    "bare locust": _bare_locust,
    "opsproof requests": _opsproof_requests,
}


def _one(name: str, core: int, users: int, seconds: int) -> None:
    """Child mode: run generator ``name`` and its own nginx on ``core``; print requests and CPU."""
    os.sched_setaffinity(0, {core})  # nginx and every Locust process inherit it
    with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
        nginx, url = _nginx(Path(scratch))
        try:
            requests, cpu = _measure(lambda: GENERATORS[name](url, users, seconds, Path(scratch)))
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    print(json.dumps({"requests": requests, "cpu": cpu}))


def _side_by_side(
    names: tuple[str, str], cores: tuple[int, int], args: argparse.Namespace
) -> list[float]:
    """Each generator's requests per CPU-second, both run at once, each on its core."""
    started = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--one",
                name,
                "--core",
                str(core),
                "--users",
                str(args.users),
                "--seconds",
                str(args.seconds),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, core in zip(names, cores, strict=True)
    ]
    rates = []
    for process in started:
        out, _ = process.communicate(timeout=args.seconds + 3 * TIMEOUT_SLACK)
        if process.returncode:
            raise SystemExit(f"a generator failed (exit {process.returncode})")
        measured = json.loads(out.strip().splitlines()[-1])
        rates.append(measured["requests"] / measured["cpu"])
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--seconds", type=int, default=60, help="per run; shorter runs weigh start-up more"
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--one", choices=GENERATORS, help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        _one(args.one, args.core, args.users, args.seconds)
        return
    if len(os.sched_getaffinity(0)) < 2:
        raise SystemExit("side-by-side rounds need two cores")
    # Locust's bytecode was compiled when pip installed it; compile opsproof's too, or where
    # PYTHONDONTWRITEBYTECODE is set every master and worker would compile edited modules again
    compileall.compile_dir(Path(opsproof.__file__).parent, quiet=1)
    first, second = sorted(os.sched_getaffinity(0))[:2]
    rates: dict[str, list[float]] = {name: [] for name in GENERATORS}
    ratios: dict[str, list[float]] = {"opsproof": [], "opsproof requests": []}
    for round_ in range(args.runs):
        cores = (first, second) if round_ % 2 == 0 else (second, first)
        for name in ratios:
            ours, bare = _side_by_side((name, "bare locust"), cores, args)
            rates[name].append(ours)
            rates["bare locust"].append(bare)
            ratios[name].append(ours / bare)
        print(
            f"round {round_ + 1}: opsproof/bare {ratios['opsproof'][-1]:.3f}, "
            f"config-only requests/bare {ratios['opsproof requests'][-1]:.3f}",
            flush=True,
        )
    baseline = statistics.median(rates["bare locust"])
    for name, values in rates.items():
        print(
            f"{name:<17} {statistics.median(values):7.0f} requests per generator CPU-second "
            f"(median of {len(values)}: {', '.join(f'{v:.0f}' for v in values)})"
        )
    if shutil.which("wrk"):
        with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
            nginx, url = _nginx(Path(scratch))
            try:
                requests, cpu = _measure(lambda: _wrk(url, args.users, args.seconds, Path(scratch)))
            finally:
                nginx.terminate()
                nginx.wait(timeout=10)
        rate = requests / cpu
        print(f"wrk {rate:.0f} requests per CPU-second: {rate / baseline:.1f}x bare Locust")
    for name, values in ratios.items():
        print(
            f"{name}/bare Locust, median of the {len(values)} rounds' ratios: "
            f"{statistics.median(values):.3f} (rounds: {', '.join(f'{r:.3f}' for r in values)})"
        )


if __name__ == "__main__":
    main()
