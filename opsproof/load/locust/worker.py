"""The worker side: receive the plan, point the user class at the target, put a gate in front
of every task (one task call = one k6 iteration), record samples, report each second.

The plan arrives as a custom argument with the first spawn message. Custom messages:
``opsproof_start``/``opsproof_stop`` from the master; ``opsproof_report`` to it (closed
seconds; the last one is marked final).
"""

import functools
import ssl
import time
from collections.abc import Callable
from typing import Any, cast

import gevent
from gevent import getcurrent
from locust.env import Environment
from locust.exception import StopUser
from locust.rpc import Message
from locust.runners import WorkerRunner
from locust.stats import RequestStats
from locust.user.users import User

from opsproof.load.breakdown import error_kind, example
from opsproof.load.checks import CHECK_REQUEST_TYPE
from opsproof.load.locust import wire_timing
from opsproof.load.locust.collector import Collector
from opsproof.load.locust.columns import RequestSample
from opsproof.load.locust.gates import ArrivalGate, Gate, Vu, gate_for
from opsproof.load.options import ConstantArrivalRate, RampingArrivalRate
from opsproof.load.plan import PLAN_ARGUMENT, LoadPlan
from opsproof.load.target import LoadTarget

REPORT_INTERVAL_S = 1.0
Task = Callable[[User], None]


class WorkerAgent:
    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.plan: LoadPlan | None = None
        self.gate: Gate | None = None
        self.collector: Collector | None = None
        self._vus: dict[User, Vu] = {}
        self._lags: dict[object, float] = {}
        self._cap = 0
        self._max_lag = 0.0
        self._task_errors = 0
        self._first_error = ""
        runner = environment.runner
        assert runner is not None
        environment.stats = UnkeptStats()
        wire_timing.install()
        runner.register_message("opsproof_start", self._on_start)
        runner.register_message("opsproof_stop", self._on_stop)
        environment.events.request.add_listener(self._on_request)  # type: ignore[no-untyped-call]
        environment.events.test_start.add_listener(self._on_test_start)  # type: ignore[no-untyped-call]

    def _on_test_start(self, environment: Environment, **_: Any) -> None:
        """Fired by the first spawn message, after its custom arguments and before any user."""
        if self.plan is not None:
            return
        plan = LoadPlan.model_validate_json(getattr(environment.parsed_options, PLAN_ARGUMENT))
        runner = environment.runner
        assert isinstance(runner, WorkerRunner)
        scenario = plan.scenario
        corrected = isinstance(scenario, ConstantArrivalRate | RampingArrivalRate)
        self.collector = Collector(plan.scenario_name, plan.submetrics, corrected)
        self.gate = gate_for(scenario, runner.worker_index, plan.workers, self.collector.arrived)
        self._cap = -(-plan.max_requests // plan.workers)
        if plan.script is not None:
            from opsproof.load.locust.script_user import OpsproofScriptUser

            OpsproofScriptUser.prepare(plan.script)
            environment.user_classes.append(OpsproofScriptUser)  # spawned by its name
        user_class = environment.user_classes_by_name[plan.user_class]
        _point_at(user_class, plan.target)
        if isinstance(self.gate, ArrivalGate):
            user_class.wait_time = _no_wait
        gated: dict[Task, Task] = {}
        for task in user_class.tasks:
            assert not isinstance(task, type), "the master rejects TaskSet tasks"
            function = cast(Task, task)
            gated.setdefault(function, self._gated(function))
        user_class.tasks = [gated[cast(Task, task)] for task in user_class.tasks]
        self.plan = plan

    def _on_start(self, environment: Environment, msg: Message, **_: Any) -> None:
        assert self.gate is not None and self.collector is not None
        t0 = time.monotonic() + (float(msg.data["at"]) - time.time())
        self.collector.start_at(t0)
        self.gate.start(t0)
        gevent.spawn(self._report)

    def _on_stop(self, environment: Environment, msg: Message, **_: Any) -> None:
        if self.gate is not None:
            self.gate.close(str(msg.data["reason"]), now=True)

    def _gated(self, task: Task) -> Task:
        @functools.wraps(task)
        def iteration(user: User) -> None:
            gate, collector = self.gate, self.collector
            assert gate is not None and collector is not None
            vu = self._vus.get(user)
            if vu is None:
                vu = self._vus[user] = gate.register()
            intended = gate.enter(vu)
            began = time.monotonic()
            if intended is not None:
                self._lags[getcurrent()] = began - intended
                self._max_lag = max(self._max_lag, began - intended)
            collector.started(began)
            try:
                task(user)
            except (StopUser, gevent.GreenletExit):
                raise
            except Exception as error:
                self._task_errors += 1
                self._first_error = self._first_error or f"{type(error).__name__}: {error}"
                raise
            else:
                collector.iteration(began, time.monotonic())
            finally:
                if intended is not None:
                    del self._lags[getcurrent()]
                gate.leave()

        return iteration

    def _on_request(
        self,
        request_type: str,
        name: str,
        response_time: float,
        response_length: int,
        exception: BaseException | None = None,
        response: Any = None,
        url: str | None = None,
        **_: Any,
    ) -> None:
        collector = self.collector
        if collector is None:
            return
        if request_type == CHECK_REQUEST_TYPE:
            collector.check(name, exception is None)
            return
        wire = wire_timing.take()
        micros = int(response_time * 1000) if wire is None else int(wire.duration * 1e6)
        corrected = None
        if collector.corrected and (lag := self._lags.get(getcurrent())) is not None:
            corrected = micros + int(lag * 1e6)
        status = int(getattr(response, "status_code", 0) or 0)
        failure = None if exception is None else (error_kind(exception), example(exception))
        collector.request(
            RequestSample(
                request_type, name, url or name, status, micros, response_length or 0,
                failure is not None, corrected, wire, failure,
            )
        )  # fmt: skip
        if collector.requests >= self._cap and self.gate is not None:
            self.gate.close(f"request cap of {self._cap} per worker reached")

    def _report(self) -> None:
        """Send closed seconds every second; when the gate finishes, send the rest, final."""
        assert self.gate is not None and self.collector is not None
        gate, collector = self.gate, self.collector
        tick = 0.5  # sample mid-second, so each second holds exactly one sample
        while not gate.finished.wait(timeout=max(0.0, gate.t0 + tick - time.monotonic())):
            collector.sample(gate.active_vus())
            self._send(final=False)
            tick += REPORT_INTERVAL_S
        collector.sample(gate.active_vus())
        self._send(final=True)

    def _send(self, *, final: bool) -> None:
        assert self.gate is not None and self.collector is not None
        runner = self.environment.runner
        assert isinstance(runner, WorkerRunner)
        seconds, upto = self.collector.drain(final)
        data: dict[str, Any] = {
            "index": runner.worker_index,
            "seconds": seconds,
            "upto": upto,
            "final": final,
        }
        if final:
            data["summary"] = self._summary()
        runner.send_message("opsproof_report", data)

    def _summary(self) -> dict[str, Any]:
        assert self.gate is not None and self.collector is not None
        gate, collector = self.gate, self.collector
        arrivals = gate if isinstance(gate, ArrivalGate) else None
        return {
            "vus_needed": gate.vus_needed,
            "vus_started": len(gate.registered),
            "intended": _due(arrivals) if arrivals else 0,
            "started": gate.started,
            "dropped": arrivals.dropped if arrivals else 0,
            "requests": collector.requests,
            "cpu": collector.cpu_use.model_dump(),
            "max_start_lag_ms": round(self._max_lag * 1000, 3),
            "task_errors": self._task_errors,
            "first_error": self._first_error,
            "capped": (gate.closed_reason or "").startswith("request cap"),
            "breakdown": collector.breakdown.to_wire(),
        }


class UnkeptStats(RequestStats):
    """Locust's own per-request statistics, not kept on workers: the collector records every
    request exactly, and Locust's rounded copy would cost ~3.5 µs a request and never be read
    (the master's Locust summary is therefore empty)."""

    def log_request(self, method: str, name: str, response_time: int, content_length: int) -> None:
        pass

    def log_error(self, method: str, name: str, error: Exception | str | None) -> None:
        pass


def _due(gate: ArrivalGate) -> int:
    """This worker's arrivals intended before the gate closed (the achieved rate's target)."""
    elapsed = gate.elapsed() if gate.closed_at is None else gate.closed_at
    total = gate.schedule.before(elapsed)
    return sum(1 for n in range(gate.index, total, gate.workers))


def _no_wait(user: User) -> float:
    return 0.0


def _point_at(user_class: type[User], target: LoadTarget) -> None:
    """Host, trust, headers and timeouts of the environment's service, on FastHttpUser's
    attributes (HttpUser ignores the ones it does not have)."""
    user_class.host = target.host
    attributes: dict[str, object] = {
        "network_timeout": target.timeout,
        "connection_timeout": target.timeout,
        "default_headers": dict(target.headers) or None,
        "insecure": False,
    }
    if target.ca_pem:
        pem = target.ca_pem

        def trusting(**_: object) -> ssl.SSLContext:  # called with the pool's cafile=None
            return ssl.create_default_context(cadata=pem)

        attributes["ssl_context_factory"] = staticmethod(trusting)  # a class attribute
    for name, value in attributes.items():
        setattr(user_class, name, value)
