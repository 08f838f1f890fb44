"""Per-command latency over SSH: opsproof's multiplexed connection vs a fresh ``ssh`` each time.

    .venv/bin/opsproof testhost up            # the guest (qemu) to measure against
    .venv/bin/python bench/ssh_commands.py    # 100 commands each way, alternating in blocks

Runs ``true`` on the test host through one ``SshSession`` (ControlMaster; every command a new
channel on the open connection) and through a fresh ``ssh`` client per command with the same
options (key exchange and login each time), in alternating blocks of ten so a neighbour's load
lands on both. Prints median, p90 and max for each and the ratio of the medians. The choice of
OpenSSH's ControlMaster over a fresh connection rests on this figure (docs/hosts.md).
"""

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from opsproof.testhost.layout import CacheLayout, default_cache_dir
from opsproof.testhost.machine import status
from opsproof.transport.ssh import SshSession

BLOCK = 10


def _fresh(session: SshSession) -> float:
    argv = ["ssh", *session.options(), "-o", "ControlPath=none", "-T", session.endpoint.host]
    began = time.monotonic()
    subprocess.run([*argv, "--", "true"], check=True, timeout=60, capture_output=True)
    return time.monotonic() - began


def _multiplexed(session: SshSession) -> float:
    result = session.run(["true"], timeout=30)
    if not result.ok:
        raise SystemExit(f"`true` failed on the host: {result.stderr!r}")
    return result.elapsed


def _summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return (
        f"{name:<12} n={len(samples)} median {statistics.median(samples) * 1000:7.1f} ms  "
        f"p90 {p90 * 1000:7.1f} ms  max {ordered[-1] * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=100, help="commands each way")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    guest = status(CacheLayout(args.cache_dir or default_cache_dir()))
    if guest is None:
        raise SystemExit("no test host runs: start it with `opsproof testhost up`")
    fresh: list[float] = []
    multiplexed: list[float] = []
    with SshSession(guest.endpoint()) as session:
        while len(fresh) < args.commands:
            fresh += [_fresh(session) for _ in range(BLOCK)]
            multiplexed += [_multiplexed(session) for _ in range(BLOCK)]
    print(f"against {guest.ssh_url} (accel {guest.accel})")
    print(_summary("fresh ssh", fresh))
    print(_summary("multiplexed", multiplexed))
    ratio = statistics.median(fresh) / statistics.median(multiplexed)
    print(f"a fresh connection per command is {ratio:.1f}x slower (medians)")


if __name__ == "__main__":
    main()
