"""Time to detect: a dependency killed in the reference stack, its down-alert awaited as a chaos
experiment awaits it; measured times against the theoretical minimum.

    .venv/bin/python bench/detection.py --runs 5 [--service redis|postgres] [--state-dir DIR]

The minimum follows from the monitoring's own settings, read from the running servers: the
alert fires no sooner than its rule's ``for:`` after the first scrape that sees the outage and
the first evaluation after that. On average the outage waits half a scrape interval to be
scraped and half an evaluation interval to be evaluated; at worst one of each. Alertmanager then
notifies a new group after ``group_wait``, an existing one (as in every run after the first) at
its next ``group_interval`` tick.
"""

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from opsproof.config.durations import parse_duration
from opsproof.config.loader import load_environment
from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.faults.ledger import Ledger, ledger_path
from opsproof.probes.monitoring_api import dicts, get_json
from opsproof.runtimes.launched import StackState
from opsproof.stack.launcher import start_stack, stop_stack

ALERTS = {"redis": ("RedisDown", "redis"), "postgres": ("PostgreSQLDown", "postgres")}
TIMEOUT = 5.0
CONFIG = """\
version: 1
environments:
  bench:
    stack: reference
    chaos: allowed
    services:
      api: {{kind: http, url: "${{stack.api.url}}", ca_file: "${{stack.tls.ca_file}}",
            deep_health: {{path: /health/deep}}}}
      redis: {{kind: redis, url: "${{stack.redis.url}}", timeout: 1s,
              runtime: {{process: {{component: redis}}}}}}
      postgres: {{kind: postgres, dsn: "${{stack.postgres.dsn}}", timeout: 2s,
                 runtime: {{process: {{component: postgres}}}}}}
      prometheus: {{kind: prometheus, url: "${{stack.prometheus.url}}"}}
    monitoring:
      prometheus: prometheus
      alertmanager: {{url: "${{stack.alertmanager.url}}"}}
      webhook: {{listen: "127.0.0.1:${{stack.alertmanager.webhook_port}}"}}
    chaos_plan:
      may_hit: [{service}]
      steady_state: [api, redis, postgres]
      experiments:
        - name: {service} killed
          fault: {{action: kill, service: {service}}}
          alerts: [{{name: {alert}, within: 50s, resolved_within: 50s}}]
"""


@dataclass(frozen=True)
class Minimum:
    """What the monitoring's settings allow, in seconds."""

    for_s: float
    scrape_s: float
    eval_s: float
    group_wait_s: float
    group_interval_s: float

    @property
    def expected(self) -> float:
        """A notification to an existing Alertmanager group (every run after the first)."""
        return self.for_s + (self.scrape_s + self.eval_s + self.group_interval_s) / 2

    @property
    def worst(self) -> float:
        return self.for_s + self.scrape_s + self.eval_s + self.group_interval_s


def minimum(state: StackState, alert: str, job: str) -> Minimum:
    """The rule's ``for`` and group interval, the job's scrape interval and Alertmanager's
    ``group_wait``, as the running servers report them."""
    prometheus, alertmanager = state.values["prometheus.url"], state.values["alertmanager.url"]
    rules = get_json(prometheus, "/api/v1/rules?type=alert", TIMEOUT)
    assert isinstance(rules, dict)
    group, rule = next(
        (g, r)
        for g in dicts(rules.get("groups"))
        for r in dicts(g.get("rules"))
        if r.get("name") == alert
    )
    config = get_json(prometheus, "/api/v1/status/config", TIMEOUT)
    assert isinstance(config, dict)
    loaded = yaml.safe_load(str(config["yaml"]))
    scrape = next(s for s in loaded["scrape_configs"] if s["job_name"] == job)
    status = get_json(alertmanager, "/api/v2/status", TIMEOUT)
    assert isinstance(status, dict)
    route = yaml.safe_load(status["config"]["original"])["route"]
    return Minimum(
        for_s=float(str(rule.get("duration", 0))),
        scrape_s=parse_duration(scrape.get("scrape_interval", loaded["global"]["scrape_interval"])),
        eval_s=float(str(group.get("interval"))),
        group_wait_s=parse_duration(route.get("group_wait", "30s")),
        group_interval_s=parse_duration(route.get("group_interval", "5m")),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--service", choices=sorted(ALERTS), default="redis")
    parser.add_argument("--state-dir", type=Path, help="a running stack's (default: start one)")
    args = parser.parse_args()
    alert, job = ALERTS[args.service]
    with tempfile.TemporaryDirectory(prefix="opsproof-bench-") as scratch:
        state_dir = args.state_dir or Path(scratch) / "stack"
        _, started = start_stack(state_dir)
        try:
            config = Path(scratch) / "opsproof.yaml"
            config.write_text(CONFIG.format(service=args.service, alert=alert))
            loaded = load_environment(config, "bench", stack=lambda: StackState.load(state_dir))
            state = StackState.load(state_dir)
            assert state is not None and loaded.environment.chaos_plan is not None
            bound = minimum(state, alert, job)
            run = ChaosRun("bench", loaded.environment, state_dir, Ledger(ledger_path(state_dir)))
            experiment = loaded.environment.chaos_plan.experiments[0]
            rows = []
            for index in range(args.runs):
                # Runs last whole scrape cycles: without a random pause between them every run
                # would hit the same phase of the scrape and evaluation clocks.
                time.sleep(random.uniform(0, max(bound.scrape_s, bound.eval_s)))
                began = time.monotonic()
                result = run_experiment(run, experiment)
                figures = {k: f.value for k, f in result.figures.items()}
                rows.append(
                    (
                        figures[f"alert.{alert}.firing_s"],
                        figures[f"alert.{alert}.notified_s"],
                        figures[f"alert.{alert}.resolved_s"],
                    )
                )
                print(
                    f"run {index + 1}: {result.verdict}, firing {rows[-1][0]} s, notified "
                    f"{rows[-1][1]} s, resolved {rows[-1][2]} s after the revert "
                    f"({time.monotonic() - began:.1f} s)"
                )
                if result.verdict != "passed":
                    raise SystemExit(f"run {index + 1}: {result.reason}")
        finally:
            if started:
                stop_stack(state_dir)
    fired, notified, resolved = ([float(r[i]) for r in rows] for i in range(3))
    median = statistics.median(notified)
    print(
        f"\n{alert}: for {bound.for_s:g}s, scrape {bound.scrape_s:g}s, evaluation "
        f"{bound.eval_s:g}s; Alertmanager group_wait {bound.group_wait_s:g}s, group_interval "
        f"{bound.group_interval_s:g}s; {args.runs} runs\n"
        f"  time to detect (notification received): median {median:.2f} s "
        f"(min {min(notified):.2f}, max {max(notified):.2f}); firing seen at median "
        f"{statistics.median(fired):.2f} s; resolved median {statistics.median(resolved):.2f} s "
        "after the revert\n"
        f"  theoretical: minimum {bound.for_s:.2f} s (for:), expected {bound.expected:.2f} s "
        "(+ half a scrape, evaluation and group interval), worst "
        f"{bound.worst:.2f} s (a new group waits group_wait instead of its interval tick)\n"
        f"  overhead of the median over the minimum: {median - bound.for_s:+.2f} s; over the "
        f"expected: {median - bound.expected:+.2f} s"
    )


if __name__ == "__main__":
    main()
