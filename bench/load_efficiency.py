"""Generator efficiency: requests per generator CPU-second against the same nginx static file,
for opsproof (Locust master + workers, gated, HDR) running a user class and running the same
request as a config-only scenario, bare Locust FastHttpUser (master + the same workers) and wrk.

    .venv/bin/python bench/load_efficiency.py --runs 5

Starts its own nginx on a free 127.0.0.1 port and runs ``--runs`` rounds; a round runs
opsproof and bare Locust back to back (in alternating order, so neither always comes first)
and wrk, each for ``--seconds`` with ``--users`` concurrent users. CPU is what the generator's
processes used (reaped children's rusage), so the server's own CPU never counts; it includes
each run's start-up (imports, with opsproof's bytecode compiled first, as Locust's is), about
0.5 CPU-s more for opsproof, which the default 60 s runs amortize as real load tests do. On a
shared 2-core VM one run's rate varies by ±15% with the host's load, so the figure is the
median of each round's ratio opsproof/bare (both runs of a round saw the same machine),
beside the medians of the rates.
Goal: opsproof ≥ 0.9× bare Locust.
"""

import argparse
import compileall
import re
import resource
import shutil
import socket
import statistics
import subprocess
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


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--seconds", type=int, default=60, help="per run; shorter runs weigh start-up more"
    )
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    # Locust's bytecode was compiled when pip installed it; compile opsproof's too, or where
    # PYTHONDONTWRITEBYTECODE is set every master and worker would compile edited modules again
    compileall.compile_dir(Path(opsproof.__file__).parent, quiet=1)
    generators: dict[str, Generator] = {
        "opsproof": _opsproof,
        "bare locust": _bare_locust,
        "opsproof requests": _opsproof_requests,
    }
    if shutil.which("wrk"):
        generators["wrk"] = _wrk
    rates: dict[str, list[float]] = {name: [] for name in generators}
    ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
        nginx, url = _nginx(Path(scratch))
        try:
            for round_ in range(args.runs):
                order = list(generators) if round_ % 2 == 0 else ["bare locust", "opsproof"]
                order += [name for name in generators if name not in order]
                for name in order:
                    requests, cpu = _measure(
                        lambda g=generators[name]: g(url, args.users, args.seconds, Path(scratch))  # type: ignore[misc]
                    )
                    rates[name].append(requests / cpu)
                ratios.append(rates["opsproof"][-1] / rates["bare locust"][-1])
                scripted = rates["opsproof requests"][-1] / rates["bare locust"][-1]
                print(
                    f"round {round_ + 1}: opsproof/bare {ratios[-1]:.3f}, "
                    f"config-only requests/bare {scripted:.3f}",
                    flush=True,
                )
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)
    baseline = statistics.median(rates["bare locust"])
    for name, values in rates.items():
        print(
            f"{name:<12} {statistics.median(values):9.0f} requests per generator CPU-second "
            f"(median of {len(values)}: {', '.join(f'{v:.0f}' for v in values)}); "
            f"{statistics.median(values) / baseline:.2f}x bare Locust's median"
        )
    print(
        f"opsproof/bare Locust, median of the {len(ratios)} rounds' ratios: "
        f"{statistics.median(ratios):.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)})"
    )


if __name__ == "__main__":
    main()
