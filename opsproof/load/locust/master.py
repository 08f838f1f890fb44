"""The master side: give the workers the plan (a custom argument), start every worker's schedule
at the same wall-clock instant, merge their seconds, evaluate abortOnFail thresholds, write
progress each second and the scenario's result at the end, then quit."""

import os
import time
from pathlib import Path
from typing import Any, NoReturn

import gevent
import psutil
from locust.env import Environment
from locust.rpc import Message
from locust.runners import MasterRunner

from opsproof.load.breakdown import Breakdown
from opsproof.load.cpu_use import CpuUse
from opsproof.load.locust.seconds import SecondsLog
from opsproof.load.plan import PLAN_ARGUMENT, PLAN_ENV, LoadPlan
from opsproof.load.progress import Progress
from opsproof.load.result import (
    PROGRESS_PREFIX,
    RESULT_PREFIX,
    STOP_PREFIX,
    TIMELINE_PREFIX,
    ScenarioResult,
    WorkerSummary,
)
from opsproof.load.stats import MetricSet, Wire
from opsproof.load.thresholds import parse_expression, parse_selector

START_DELAY_S = 0.2
"""Lead time of the start message, so every worker begins at the same instant."""
TICK_S = 1.0


class MasterCoordinator:
    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        runner = environment.runner
        assert isinstance(runner, MasterRunner)
        self.runner = runner
        self.plan = LoadPlan.model_validate_json(Path(os.environ[PLAN_ENV]).read_text())
        self.out = Path(self.plan.out_dir)
        self.totals = MetricSet()
        self.breakdown = Breakdown()
        self.seconds = SecondsLog(self.out / f"{TIMELINE_PREFIX}{self.plan.scenario_name}.jsonl")
        self.upto: dict[int, int] = {}
        self.finals: dict[int, WorkerSummary] = {}
        self.latest_vus: dict[int, int] = {}
        self.master_cpu = CpuUse()
        self.started_at: float | None = None
        self.aborted: str | None = None
        self.done = False
        self._process = psutil.Process()
        self._process.cpu_percent(None)
        self._resolve_user_class()
        runner.register_message("opsproof_report", self._on_report)
        setattr(  # forwarded to every worker with the spawn message
            environment.parsed_options,
            PLAN_ARGUMENT,
            self.plan.model_dump_json(by_alias=True),
        )
        environment.events.spawning_complete.add_listener(self._on_spawned)  # type: ignore[no-untyped-call]

    def _resolve_user_class(self) -> None:
        """Run exactly the scenario's user class; a wrong name or a TaskSet is a plan error."""
        if self.plan.script is not None:
            from opsproof.load.locust.script_user import OpsproofScriptUser

            self.environment.user_classes = [OpsproofScriptUser]
            return
        classes = {cls.__name__: cls for cls in self.environment.user_classes}
        wanted = self.plan.user_class
        if wanted == "default" and len(classes) == 1:
            wanted = next(iter(classes))
        chosen = classes.get(wanted)
        if chosen is None:
            names = ", ".join(classes) or "none"
            hint = "set the scenario's exec to one" if wanted == "default" else "fix exec"
            self._fail_now(f"no user class {wanted!r} in the locustfile ({names}); {hint}")
        nested = [t for t in chosen.tasks if isinstance(t, type)]
        if nested:
            self._fail_now(
                f"{wanted} runs a TaskSet ({nested[0].__name__}); opsproof counts one k6 "
                "iteration per task call, so write the flow as @task methods"
            )
        self.environment.user_classes = [chosen]
        self.plan = self.plan.model_copy(update={"user_class": wanted})

    def _fail_now(self, error: str) -> NoReturn:
        self._write(self._result(error))
        raise SystemExit(2)

    def _on_spawned(self, user_count: int, **_: Any) -> None:
        if self.started_at is not None:
            return
        self.started_at = time.time() + START_DELAY_S
        self.runner.send_message("opsproof_start", {"at": self.started_at})
        gevent.spawn(self._tick)

    def _on_report(self, environment: Environment, msg: Message, **_: Any) -> None:
        data = msg.data
        index = int(data["index"])
        for wire in data["seconds"]:
            self._absorb(index, wire)
        self.upto[index] = int(data["upto"])
        if data["final"]:
            summary = dict(data["summary"])
            self.breakdown.merge(Breakdown.from_wire(summary.pop("breakdown", {})))
            self.finals[index] = WorkerSummary(index=index, **summary)
        if len(self.upto) == self.plan.workers:
            self._close_seconds(min(self.upto.values()))
        if len(self.finals) == self.plan.workers:
            self._finish()

    def _absorb(self, index: int, wire: Wire) -> None:
        metrics = MetricSet.from_wire(wire["metrics"])  # type: ignore[arg-type]
        self.totals.merge(metrics)
        self.seconds.absorb(wire, metrics)
        self.latest_vus[index] = int(str(wire["vus"]))

    def _close_seconds(self, before: int) -> None:
        self.seconds.close_before(before)

    def _tick(self) -> None:
        while not self.done:
            gevent.sleep(TICK_S)
            self.master_cpu.add(self._process.cpu_percent(None))
            elapsed = self._elapsed()
            self._progress(elapsed)
            self._check_stop(elapsed)
            self._check_abort(elapsed)
            if elapsed > self.plan.run_timeout:
                missing = sorted(set(range(self.plan.workers)) - set(self.finals))
                self._finish(
                    f"workers {missing} did not finish within {self.plan.run_timeout:.0f} s"
                )

    def _elapsed(self) -> float:
        return time.time() - (self.started_at or time.time())

    def _progress(self, elapsed: float) -> None:
        totals = self.totals
        requests = int(totals.counters.get("http_reqs", [0, 0])[0])
        failed, total = totals.rates.get("http_req_failed", [0, 0])
        duration = totals.trends.get("http_req_duration")
        line = Progress(
            scenario=self.plan.scenario_name,
            t=round(elapsed, 1),
            vus=sum(self.latest_vus.values()),
            rps=self.seconds.last.requests if self.seconds.last else 0,
            requests=requests,
            errors=failed / total if total else 0.0,
            p95=duration.percentile_ms(95) if duration and duration.count else None,
            dropped=int(totals.counters.get("dropped_iterations", [0, 0])[0]),
        )
        _replace(
            self.out / f"{PROGRESS_PREFIX}{self.plan.scenario_name}.json", line.model_dump_json()
        )

    def _check_stop(self, elapsed: float) -> None:
        """The caller asked the run to end (a chaos experiment done with its background load):
        the workers stop as on abortOnFail, and the result is written as usual."""
        if self.aborted is None and (self.out / f"{STOP_PREFIX}{self.plan.scenario_name}").exists():
            self.aborted = f"stopped at {elapsed:.1f} s: its caller asked"
            self.runner.send_message("opsproof_stop", {"reason": self.aborted})

    def _check_abort(self, elapsed: float) -> None:
        if self.aborted is not None:
            return
        for rule in self.plan.abort_rules:
            if rule.delay is not None and elapsed < rule.delay:
                continue
            selector, expression = parse_selector(rule.selector), parse_expression(rule.expression)
            if not self.totals.samples(str(selector)):
                continue
            value = self.totals.aggregate(selector, expression, max(elapsed, 1e-9))
            if not expression.passes(value):
                self.aborted = f"{rule.id} failed at {elapsed:.1f} s ({value:g}); abortOnFail"
                self.runner.send_message("opsproof_stop", {"reason": self.aborted})
                return

    def _finish(self, error: str | None = None) -> None:
        if self.done:
            return
        self.done = True
        self._close_seconds(1 << 62)
        self._write(self._result(error))
        self.environment.process_exit_code = 0
        gevent.spawn(self.runner.quit)

    def _result(self, error: str | None) -> ScenarioResult:
        scenario = self.plan.scenario
        totals = self.totals
        for name, value in (("vus", self._last_vus()), ("vus_max", self._max_vus())):
            totals.gauge(name, value)
        return ScenarioResult(
            scenario=self.plan.scenario_name,
            executor=scenario.executor,
            user_class=self.plan.user_class,
            started_at=self.started_at or time.time(),
            duration_s=self._elapsed(),
            metrics=totals.to_wire(),
            breakdown=self.breakdown.to_wire(),
            workers=sorted(self.finals.values(), key=lambda w: w.index),
            master_cpu=self.master_cpu,
            aborted=self.aborted,
            error=error,
        )

    def _last_vus(self) -> int:
        return self.seconds.last.vus if self.seconds.last else 0

    def _max_vus(self) -> int:
        return self.seconds.max_vus

    def _write(self, result: ScenarioResult) -> None:
        _replace(
            self.out / f"{RESULT_PREFIX}{self.plan.scenario_name}.json", result.model_dump_json()
        )


def _replace(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: its reader polls it while the run goes on."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)
