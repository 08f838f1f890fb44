"""Throughput of the API contract probe against the reference service: operations probed per
second and examples (generated inputs sent and judged) per second.

    .venv/bin/python bench/contract.py --examples 50 --runs 3

Starts the reference stack if needed (and stops it afterwards only if it started it), probes
every read-only operation of the reference API's /openapi.json through nginx (TLS) with the
rate limit out of the way, ``--runs`` times with seeds 1, 2, …, each with a fresh example
database, and prints the medians. Hypothesis's generation and shrinking, Schemathesis's checks
and the service's answers are all inside the figure: it is the probe's cost, not the wire's.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from opsproof.config.models import HttpService
from opsproof.contract.probe import ContractProbe
from opsproof.journeys.flow import FlowContext
from opsproof.runtimes.launched import default_state_dir
from opsproof.stack.launcher import start_stack, stop_stack


def _probe_once(url: str, ca_file: str, examples: int, seed: int) -> tuple[int, int, int, float]:
    """Operations, examples, answers, seconds."""
    contract = {"examples": examples, "budget": "600s", "rate": 1000}
    service = HttpService.model_validate(
        {"kind": "http", "url": url, "ca_file": ca_file, "api_contract": contract}
    )
    with tempfile.TemporaryDirectory(prefix="opsproof-bench-contract-") as scratch:
        probe = ContractProbe(
            "api", service, {"api": service}, FlowContext(Path(scratch)), Path(scratch) / "db"
        )
        probe.load()
        targets = [t for t, why in probe.targets(access=False) if why is None]
        probe.share(len(targets))
        started = time.perf_counter()
        outcomes = [probe.run(target, seed) for target in targets]
        elapsed = time.perf_counter() - started
        probe.close()
    failed = [o.observation.reason for o in outcomes if not o.observation.ok]
    if failed:
        raise SystemExit("the probe failed on the reference service:\n" + "\n".join(failed))
    figures = [o.observation.figures for o in outcomes]
    tried = sum(int(f["examples"].value or 0) for f in figures)
    answered = sum(int(f["answered"].value or 0) for f in figures)
    return len(targets), tried, answered, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="per operation")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--state-dir", type=Path, default=default_state_dir())
    args = parser.parse_args()
    state, started_here = start_stack(args.state_dir)
    try:
        url, ca_file = state.values["api.url"], state.values["tls.ca_file"]
        _probe_once(url, ca_file, 5, 0)  # warm-up: imports, connections, the TLS context
        runs = [_probe_once(url, ca_file, args.examples, seed) for seed in range(1, args.runs + 1)]
    finally:
        if started_here:
            stop_stack(args.state_dir)
    operations = statistics.median(ops / s for ops, _, _, s in runs)
    examples = statistics.median(n / s for _, n, _, s in runs)
    answers = statistics.median(a / s for _, _, a, s in runs)
    ops, tried, _, seconds = runs[0]
    print(f"{ops} operations, {args.examples} examples each at most; first run: {tried} examples "
          f"in {seconds:.2f} s")  # fmt: skip
    print(f"operations/s {operations:.2f}  examples/s {examples:.1f}  answers/s {answers:.1f} "
          f"(median of {args.runs})")  # fmt: skip


if __name__ == "__main__":
    main()
