"""A flow step's overhead over a bare httpx request, against the reference service.

    .venv/bin/python bench/flow_step.py --steps 300

Starts the reference stack if needed (and stops it afterwards only if it started it). Each
round sends ``GET /health`` once as a bare ``httpx.Client.get`` (keep-alive, the same CA) and
once as a flow step (``journeys.step.run_step``: bounded client, one deadline, expectations
judged — status class, JSON field, negative check —, a value captured), in alternating order
so drift hits both alike. Prints the medians and the median of the per-round differences: the
step's overhead (target <= 2 ms). A whole one-step flow also opens its own connection (and TLS
handshake), so its cost is printed beside a bare request on a fresh client.
"""

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from opsproof.config.flows import FlowSpec, FlowStepSpec
from opsproof.config.models import HttpService
from opsproof.journeys.flow import FlowContext, run_flow
from opsproof.journeys.step import StepContext, run_step
from opsproof.journeys.variables import Variables
from opsproof.probes._fetch import http_client
from opsproof.runtimes.launched import default_state_dir
from opsproof.stack.launcher import start_stack, stop_stack

STEP = {
    "name": "health",
    "request": {"path": "/health"},
    "expect": {"status": "2xx", "json": {"status": "ok"}, "json_absent": ["error"]},
    "capture": {"version": {"json": "version"}},
}


def _timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def _summary(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9)]
    return f"{label:<34} median {statistics.median(samples):7.3f} ms  p90 {p90:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--state-dir", type=Path, default=default_state_dir())
    args = parser.parse_args()
    state, started_here = start_stack(args.state_dir)
    try:
        url, ca_file = state.values["api.url"], state.values["tls.ca_file"]
        service = HttpService.model_validate({"kind": "http", "url": url, "ca_file": ca_file})
        step = FlowStepSpec.model_validate(STEP)
        context = StepContext(Path.cwd(), None)
        bare_client = httpx.Client(verify=ca_file)
        flow_client = http_client(service)

        def bare() -> None:
            answer = bare_client.get(url + "/health")
            assert answer.status_code == 200 and answer.json()["status"] == "ok"

        def flow_step() -> None:
            assert run_step(step, service, flow_client, Variables(), {}, context).ok

        for _ in range(20):  # warm-up: connections, imports, caches
            bare(), flow_step()
        bares, steps, differences = [], [], []
        for round_ in range(args.steps):
            first, second = (bare, flow_step) if round_ % 2 else (flow_step, bare)
            a, b = _timed(first), _timed(second)
            bare_ms, step_ms = (a, b) if first is bare else (b, a)
            bares.append(bare_ms)
            steps.append(step_ms)
            differences.append(step_ms - bare_ms)
        bare_client.close()
        flow_client.close()

        flow = FlowSpec.model_validate({"name": "one step", "service": "api", "steps": [STEP]})
        flow_context = FlowContext(Path.cwd())

        def fresh_bare() -> None:
            with httpx.Client(verify=ca_file) as client:
                assert client.get(url + "/health").status_code == 200

        def whole_flow() -> None:
            assert run_flow(flow, {"api": service}, flow_context).ok

        fresh, flows = [], []
        for _ in range(max(args.steps // 5, 20)):
            fresh.append(_timed(fresh_bare))
            flows.append(_timed(whole_flow))
    finally:
        if started_here:
            stop_stack(args.state_dir)
    print(f"{args.steps} rounds against {url}/health")
    print(_summary("bare httpx (keep-alive)", bares))
    print(_summary("flow step (same connection reuse)", steps))
    print(_summary("overhead per round (step - bare)", differences))
    print(_summary("bare httpx, fresh client", fresh))
    print(_summary("one-step flow, its own client", flows))


if __name__ == "__main__":
    main()
