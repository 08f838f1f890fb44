"""Real Locust runs (a master and two workers in subprocesses) against a server with a known
latency on loopback: each executor's achieved shape against the intended one, thresholds that
pass and fail, abortOnFail, merging across workers, and an unhealthy generator."""

import time
from collections.abc import Callable

import pytest

from opsproof.load.health import assess
from opsproof.load.options import RampingArrivalRate, RampingVus
from opsproof.load.profile import profile_from_dict
from opsproof.load.progress import Progress
from opsproof.load.result import LoadResult
from opsproof.load.schedules import ArrivalSchedule, vus_at
from opsproof.load.verdicts import judge

Run = Callable[..., LoadResult]

pytestmark = pytest.mark.alone  # achieved rates within one iteration: a busy neighbour starves them


def _verdicts(options: dict[str, object], result: LoadResult) -> dict[str, str]:
    health = assess(result)
    return {t.id: judge(t, result, health).outcome for t in profile_from_dict(options).thresholds}


def test_thresholds_pass_and_fail_on_known_latency_and_samples_merge_across_workers(
    run: Run, progress: list[Progress]
) -> None:
    options = {
        "scenarios": {
            "steady": {"executor": "constant-vus", "vus": 4, "duration": "3s", "exec": "Sleepy"}
        },
        "thresholds": {
            "http_req_duration": ["p(50)>=20", "p(95)<60", "p(95)<15", "max<1000"],
            "http_req_duration{name:/sleep}": ["med<40"],
            "http_req_duration{name:/nothing}": ["p(95)<1000"],
            "http_req_failed": ["rate==0"],
            "checks": ["rate>0.99"],
            "http_reqs": ["count>100", "rate>30"],
            "iterations": ["count>100"],
        },
    }
    result = run(options)
    assert not result.errors
    verdicts = _verdicts(options, result)
    assert verdicts.pop("http_req_duration:p(95)<15") == "failed"  # the server sleeps 20 ms
    assert verdicts.pop("http_req_duration{name:/nothing}:p(95)<1000") == "failed"  # no samples
    assert set(verdicts.values()) == {"passed"}, verdicts
    (scenario,) = result.scenarios
    assert [w.index for w in scenario.workers] == [0, 1]
    assert all(w.requests > 0 and w.vus_started == 2 for w in scenario.workers)
    requests = result.metrics.counters["http_reqs"][0]
    assert requests == sum(w.requests for w in scenario.workers)
    assert result.metrics.trends["http_req_duration"].count == requests
    assert sum(s.requests for s in result.timeline) == requests
    assert progress and progress[-1].requests > 0  # live progress arrived while it ran


def test_request_durations_are_timed_on_the_wire_not_around_the_clients_own_work(
    run: Run,
) -> None:
    """The user spends 30 ms before each request is written (Locust counts that); the server
    answers in ~1 ms, and that is what k6's http_req_duration and its phases hold."""
    options = {
        "scenarios": {
            "s": {"executor": "constant-vus", "vus": 2, "duration": "2s", "exec": "SlowToSend"}
        },
        "thresholds": {
            "http_req_duration": ["p(95)<20"],
            "http_req_waiting": ["p(95)<20", "med>=1"],
            "http_req_sending": ["max<20"],
            "http_req_receiving": ["max<20"],
            "data_sent{name:/late}": ["count>0"],
            "iteration_duration": ["med>=30"],
        },
    }
    result = run(options)
    assert not result.errors
    assert set(_verdicts(options, result).values()) == {"passed"}, result.metrics.trends
    assert result.metrics.trends["http_req_duration"].min_us >= 1000  # the server's own 1 ms


def test_ramping_vus_follow_the_stages(run: Run) -> None:
    options = {
        "scenarios": {
            "ramp": {
                "executor": "ramping-vus",
                "startVUs": 0,
                "exec": "Sleepy",
                "gracefulStop": "1s",
                "stages": [{"duration": "3s", "target": 5}, {"duration": "3s", "target": 0}],
            }
        }
    }
    result = run(options)
    (scenario,) = profile_from_dict(options).scenarios.values()
    assert isinstance(scenario, RampingVus)
    achieved = {s.t: s.vus for s in result.timeline}
    # sampled mid-second, 100 ms or more away from every change of the VU count
    intended = {t: vus_at(scenario, t + 0.5) for t in range(6)}
    assert intended == {0: 0, 1: 2, 2: 4, 3: 5, 4: 3, 5: 1}
    assert {t: achieved.get(t, 0) for t in intended} == intended
    assert result.metrics.gauges["vus_max"][0] == 5
    assert all(
        w.vus_started == 3 and w.vus_needed == 3 - w.index for w in result.scenarios[0].workers
    )


def test_constant_arrival_rate_starts_iterations_on_time(run: Run) -> None:
    options = {
        "scenarios": {
            "rate": {
                "executor": "constant-arrival-rate",
                "rate": 40,
                "duration": "3s",
                "preAllocatedVUs": 4,
                "maxVUs": 8,
                "exec": "Sleepy",
            }
        },
        "thresholds": {
            "dropped_iterations": ["count==0"],
            "http_req_duration_corrected": ["p(99)<100"],
        },
    }
    result = run(options)
    assert not result.errors and assess(result).ok
    # An iteration due just before a second's end may start just after it when the machine is
    # busy: a start may cross one boundary, never more, and none is dropped.
    started = [s.started for s in result.timeline if s.t < 3]
    assert len(started) == 3 and all(39 <= n <= 41 for n in started), started
    assert sum(started) >= 119, started
    assert result.metrics.counters["iterations"][0] == 120
    corrected = result.metrics.trends["http_req_duration_corrected"]
    raw = result.metrics.trends["http_req_duration"]
    assert corrected.count == raw.count == 120
    assert corrected.percentile_ms(99) >= raw.percentile_ms(99) - 0.1
    assert set(_verdicts(options, result).values()) == {"passed"}


def test_ramping_arrival_rate_follows_the_rate_stages(run: Run) -> None:
    options = {
        "scenarios": {
            "ramp": {
                "executor": "ramping-arrival-rate",
                "startRate": 10,
                "preAllocatedVUs": 6,
                "exec": "Sleepy",
                "stages": [{"duration": "2s", "target": 50}, {"duration": "2s", "target": 10}],
            }
        }
    }
    result = run(options)
    (scenario,) = profile_from_dict(options).scenarios.values()
    assert isinstance(scenario, RampingArrivalRate)
    schedule = ArrivalSchedule(scenario)
    intended = [schedule.before(t + 1) - schedule.before(t) for t in range(4)]
    assert intended == [20, 40, 40, 20]
    achieved = [s.started for s in sorted(result.timeline, key=lambda s: s.t) if s.t < 4]
    assert all(abs(a - i) <= 1 for a, i in zip(achieved, intended, strict=True)), achieved
    # every scheduled iteration started; the last one, due just before 4 s, may be counted in
    # the next second's window when the machine is busy
    assert sum(s.started for s in result.timeline) == sum(intended) == schedule.total
    assert assess(result).ok


def test_iteration_executors_run_exactly_their_iterations_and_stop_early(run: Run) -> None:
    options = {
        "scenarios": {
            "each": {"executor": "per-vu-iterations", "vus": 3, "iterations": 7, "exec": "Sleepy"},
            "shared": {
                "executor": "shared-iterations",
                "vus": 4,
                "iterations": 25,
                "exec": "Quick",
            },
        },
        "thresholds": {
            "iterations{scenario:each}": ["count==21"],
            "iterations{scenario:shared}": ["count==25"],
        },
    }
    began = time.monotonic()
    result = run(options)
    assert time.monotonic() - began < 30  # maxDuration is 10 minutes: they ended with the work
    assert not result.errors
    assert set(_verdicts(options, result).values()) == {"passed"}
    failed, total = result.metrics.rates["http_req_failed"]
    assert total == 46 and 0 < failed < total  # each Quick VU answers its first iteration with 500


def test_abort_on_fail_stops_the_run_early(run: Run) -> None:
    options = {
        "scenarios": {
            "long": {"executor": "constant-vus", "vus": 2, "duration": "60s", "exec": "Sleepy"}
        },
        "thresholds": {
            "http_req_duration": [
                {"threshold": "p(95)<5", "abortOnFail": True, "delayAbortEval": "1s"}
            ],
            "http_req_failed": ["rate<0.01"],
        },
    }
    began = time.monotonic()
    result = run(options)
    assert time.monotonic() - began < 20
    assert result.aborted and result.aborted.startswith("http_req_duration:p(95)<5 failed at")
    assert result.duration_s < 5
    profile = profile_from_dict(options)
    health = assess(result)
    duration, failed = (judge(t, result, health) for t in profile.thresholds)
    assert duration.outcome == "failed" and "abortOnFail" in duration.reason
    assert failed.outcome == "passed"


def test_dropped_iterations_make_the_verdict_inconclusive(run: Run) -> None:
    options = {
        "scenarios": {
            "starved": {
                "executor": "constant-arrival-rate",
                "rate": 30,
                "duration": "2s",
                "preAllocatedVUs": 1,
                "maxVUs": 2,
                "exec": "Slow",
            }
        },
        "thresholds": {"http_req_duration": ["p(95)<1000"]},
    }
    result = run(options)
    health = assess(result)
    assert not health.ok
    assert "intended iterations" in health.reasons[0] and "raise maxVUs" in health.reasons[0]
    assert result.metrics.counters["dropped_iterations"][0] > 30
    (threshold,) = profile_from_dict(options).thresholds
    verdict = judge(threshold, result, health)
    assert verdict.outcome == "inconclusive" and "dropped" in verdict.reason


def test_every_run_stops_at_its_request_bound(run: Run) -> None:
    options = {
        "scenarios": {
            "s": {"executor": "constant-vus", "vus": 2, "duration": "30s", "exec": "Quick"}
        }
    }
    began = time.monotonic()
    result = run(options, max_requests=40)
    assert time.monotonic() - began < 20
    assert 40 <= result.metrics.counters["http_reqs"][0] <= 42  # plus requests already in flight
    assert all(w.capped for s in result.scenarios for w in s.workers)


def test_a_missing_user_class_is_reported_not_hung(run: Run) -> None:
    began = time.monotonic()
    result = run(
        {"scenarios": {"s": {"executor": "constant-vus", "duration": "1s", "exec": "Nobody"}}}
    )
    assert time.monotonic() - began < 30
    assert any("no user class 'Nobody'" in e and "Sleepy" in e for e in result.errors), (
        result.errors
    )


def test_a_time_scaled_stages_shortcut_keeps_its_shape(run: Run) -> None:
    stages = [
        {"duration": "3m", "target": 3},
        {"duration": "3m", "target": 3},
        {"duration": "3m", "target": 0},
    ]
    options = {
        "scenarios": {"ramp": {"executor": "ramping-vus", "stages": stages, "exec": "Sleepy"}}
    }
    began = time.monotonic()
    result = run(options, time_scale=0.01)  # 9 minutes in 5.4 s, the VU count changes at 1.8 s
    assert time.monotonic() - began < 20
    assert not result.errors
    assert [s.vus for s in result.timeline][:5] == [1, 2, 3, 3, 2]
