"""Bare Locust, the benchmarks' baseline: a headless master and two workers on loopback with
Locust's own statistics, nothing of opsproof's loaded."""

import socket
import subprocess
import sys
import tempfile
from pathlib import Path

LOCUSTFILE = Path(__file__).with_name("load_locustfile.py")
TIMEOUT_SLACK = 60.0


def run_bare_locust(
    user_class: str, url: str, users: int, seconds: int, scratch: Path
) -> dict[str, str]:
    """Run ``user_class`` for ``seconds`` and return Locust's Aggregated stats row by column
    name (``Request Count``, ``95%``, ...)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    csv = Path(tempfile.mkdtemp(dir=scratch)) / "bare"
    base = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
    master = [
        *base, "--master", "--headless", "--only-summary", "--master-bind-host", "127.0.0.1",
        "--master-bind-port", str(port), "--expect-workers", "2", "-u", str(users),
        "-r", str(users), "-t", f"{seconds}s", "--host", url, "--csv", str(csv), user_class,
    ]  # fmt: skip
    worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    started = [
        subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for command in (master, worker, worker)
    ]
    try:
        started[0].wait(timeout=seconds + TIMEOUT_SLACK)
    finally:
        for process in started:
            process.terminate()
            process.wait(timeout=10)
    header, *rows = Path(f"{csv}_stats.csv").read_text().splitlines()
    aggregated = next(r for r in rows if ",Aggregated," in r)
    return dict(zip(header.split(","), aggregated.split(","), strict=True))
