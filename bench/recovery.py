"""Recovery-time accuracy: a Redis that is down for exactly T seconds, measured as opsproof's
experiments measure it; prints measured minus true (goal: |error| <= 100 ms).

    .venv/bin/python bench/recovery.py --runs 5

Two kinds of outage, because they stress the measurement differently:
``freeze`` (SIGSTOP/SIGCONT through the process runtime: probes hang, as on a paused host) and
``refuse`` (an nftables reject rule: probes fail at once, as on a dead port). The outage
starts at a known monotonic instant; ``measure_recovery`` polls a Redis PING from then on and
its recovery time is compared with the instant the outage was lifted.
"""

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from opsproof.config.models import ProcessRuntimeSpec, RedisService
from opsproof.faults import nft
from opsproof.faults.recovery import measure_recovery
from opsproof.probes.redis import ping
from opsproof.runtimes import ProcessRuntime, ProcessTarget
from opsproof.support.ports import free_ports

TABLE = "opsproof_bench_recovery"
START_TIMEOUT = 10.0


def _redis(scratch: Path) -> tuple[ProcessRuntime, int]:
    port = free_ports(1)[0]
    pid_file = scratch / "redis.pid"
    program = shutil.which("redis-server")
    if program is None:
        raise SystemExit("redis-server not found: apt-get install redis-server")
    start = [program, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--pidfile", str(pid_file), "--dir", str(scratch)]  # fmt: skip
    spec = ProcessRuntimeSpec(pid_file=pid_file, start=start)
    runtime = ProcessRuntime(ProcessTarget(name="bench-redis", spec=spec, state_dir=scratch))
    runtime.start(START_TIMEOUT)
    return runtime, port


def _outage(kind: str, runtime: ProcessRuntime, port: int) -> tuple[Callable[[], None], ...]:
    """(take down, bring up) for one kind of outage."""
    if kind == "freeze":
        return runtime.pause, runtime.resume
    rule = (
        f"table {nft.FAMILY} {TABLE} {{\n chain out {{ type filter hook output priority 0; "
        f"tcp dport {port} reject with tcp reset; }}\n}}\n"
    )
    return (lambda: nft.load(rule)), (lambda: nft.delete(TABLE))


def measure(
    kind: str, runtime: ProcessRuntime, port: int, seconds: float, interval: float
) -> float:
    """One outage of ``seconds``; measured recovery minus the true outage, in seconds."""
    service = RedisService(kind="redis", url=f"redis://127.0.0.1:{port}/0", timeout=seconds + 5)
    down, up = _outage(kind, runtime, port)
    lifted: list[float] = []

    def lift(at: float) -> None:
        time.sleep(max(0.0, at - time.monotonic()))  # the outage itself, not a synchronisation
        lifted.append(time.monotonic())
        up()

    began = time.monotonic()
    down()
    timer = threading.Thread(target=lift, args=(began + seconds,))
    timer.start()
    try:
        recovery = measure_recovery(
            lambda: ping(service), began, within=seconds + 10, consecutive=1, interval=interval
        )
    finally:
        timer.join()
    if recovery.recovered_s is None:
        raise SystemExit(f"{kind}: no recovery measured after a {seconds:g} s outage")
    return recovery.recovered_s - (lifted[0] - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.05, help="polling interval, s")
    parser.add_argument("--outages", type=float, nargs="+", default=[0.5, 2.0, 5.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
        runtime, port = _redis(Path(scratch))
        try:
            print(f"polling every {args.interval * 1000:g} ms, {args.runs} runs each")
            print(f"{'outage':>7} {'kind':>7} {'median error':>13} {'worst error':>12}")
            for seconds in args.outages:
                for kind in ("freeze", "refuse"):
                    errors = [
                        measure(kind, runtime, port, seconds, args.interval)
                        for _ in range(args.runs)
                    ]
                    worst = max(errors, key=abs)
                    print(
                        f"{seconds:>6g}s {kind:>7} {statistics.median(errors) * 1000:>+10.1f} ms"
                        f" {worst * 1000:>+9.1f} ms"
                    )
        finally:
            nft.delete(TABLE)
            runtime.kill()


if __name__ == "__main__":
    main()
