"""Profiles in k6's option vocabulary: shortcuts become k6's scenarios, k6's rules hold, every
mistake names the file, line and key, and the time scale keeps the shape."""

from pathlib import Path

import pytest

from opsproof.errors import ConfigError
from opsproof.load.options import ConstantVus, PerVuIterations, RampingVus, SharedIterations
from opsproof.load.plan import LoadPlan, LoadTarget
from opsproof.load.profile import load_profile, profile_from_dict
from tests.project import PROJECT_ROOT

RUNBOOK = PROJECT_ROOT / "load" / "profiles" / "runbook-ramp.yaml"


def test_the_runbook_profile_is_the_k6_script() -> None:
    profile = load_profile(RUNBOOK)
    (scenario,) = profile.scenarios.values()
    assert isinstance(scenario, RampingVus)
    assert [(s.duration, s.target) for s in scenario.stages] == [
        (120, 100), (300, 100), (120, 200), (300, 200), (120, 0),
    ]  # fmt: skip
    assert [t.id for t in profile.thresholds] == [
        "http_req_duration:p(95)<500",
        "http_req_duration:p(99)<1000",
        "http_req_failed:rate<0.01",
    ]


def test_time_scale_shortens_durations_not_rates() -> None:
    profile = profile_from_dict(
        {
            "scenarios": {
                "ramp": {"executor": "ramping-vus", "stages": [{"duration": "2m", "target": 100}]},
                "rate": {
                    "executor": "constant-arrival-rate",
                    "rate": 50,
                    "timeUnit": "1s",
                    "duration": "1m",
                    "preAllocatedVUs": 5,
                    "gracefulStop": "30s",
                },
            },
            "thresholds": {
                "http_reqs": [
                    {"threshold": "count>1", "abortOnFail": True, "delayAbortEval": "10s"}
                ]
            },
        }
    ).scaled(0.01)
    ramp, rate = profile.scenarios["ramp"], profile.scenarios["rate"]
    assert isinstance(ramp, RampingVus) and ramp.stages[0].duration == pytest.approx(1.2)
    assert rate.duration == pytest.approx(0.6) and rate.time_unit == 1.0  # type: ignore[union-attr]
    assert rate.graceful_stop == pytest.approx(0.3)
    assert profile.thresholds[0].delay_abort_eval == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("options", "executor"),
    [
        ({"vus": 5, "duration": "30s"}, ConstantVus),
        ({"stages": [{"duration": "1m", "target": 5}]}, RampingVus),
        ({"vus": 2, "iterations": 10}, SharedIterations),
        ({}, PerVuIterations),
    ],
)
def test_shortcuts_derive_k6_scenarios(options: dict[str, object], executor: type) -> None:
    (scenario,) = profile_from_dict(options).scenarios.values()
    assert isinstance(scenario, executor)


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (
            {"duration": "1m", "stages": [{"duration": "1m", "target": 1}]},
            "cannot be used together",
        ),
        ({"vus": 3}, "`vus` alone runs nothing"),
        ({"duration": "1m", "scenarios": {}}, "use it or `scenarios`"),
        ({"scenarios": {"a b": {"executor": "constant-vus", "duration": "1s"}}}, "letters, digits"),
        (
            {"scenarios": {"a": {"executor": "shared-iterations", "vus": 5, "iterations": 2}}},
            "cannot be below vus",
        ),
        (
            {"scenarios": {"a": {"executor": "constant-vus", "duration": "500ms"}}},
            "greater than or equal to 1",
        ),
        (
            {
                "scenarios": {
                    "a": {
                        "executor": "ramping-vus",
                        "startVUs": 0,
                        "stages": [{"duration": "1s", "target": 0}],
                    }
                }
            },
            "must be above 0",
        ),
        (
            {
                "scenarios": {
                    "a": {
                        "executor": "constant-arrival-rate",
                        "rate": 5,
                        "duration": "1s",
                        "preAllocatedVUs": 5,
                        "maxVUs": 2,
                    }
                }
            },
            "maxVUs cannot be below",
        ),
        (
            {
                "scenarios": {
                    "a": {"executor": "constant-arrival-rate", "rate": 5, "duration": "1m30"}
                }
            },
            "not a k6 duration",
        ),
    ],
)
def test_what_k6_rejects_is_a_config_error(options: dict[str, object], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        profile_from_dict(options)


def test_errors_in_a_file_name_the_line_key_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(
        "stages:\n"
        "  - {duration: 1m, target: 10}\n"
        "thresholds:\n"
        "  http_req_duration: ['p(95)<500', 'p(99)<=x']\n"
        "  http_req_fialed: ['rate<0.01']\n"
        "  http_reqs: ['avg<3']\n"
        "graceful: 3s\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith(f"{path}:4:36:") and "'x' is not a number" in lines[0]
    assert lines[1].startswith(f"{path}:5:3: thresholds.http_req_fialed: unknown metric")
    assert "did you mean 'http_req_failed'" in lines[1]
    assert lines[2].startswith(f"{path}:7:1: graceful: unknown key")
    # a method that does not fit its metric is found once the file's shape is right
    path.write_text("thresholds:\n  http_reqs: ['count>1', 'avg<3']\n")
    with pytest.raises(ConfigError, match=f"^{path}:2:26: .*use count, rate"):
        load_profile(path)


def test_a_plan_carries_the_scenario_as_written_to_other_processes() -> None:
    scenario = {
        "executor": "ramping-arrival-rate",
        "stages": [{"duration": "1m30s", "target": 9}],
        "preAllocatedVUs": 3,
    }
    profile = profile_from_dict({"scenarios": {"s": scenario}}).scaled(0.01)
    plan = LoadPlan(
        scenario_name="s", written=profile.written["s"], time_scale=profile.time_scale,
        user_class="default", workers=2, target=LoadTarget(host="http://127.0.0.1:1"),
        max_requests=10, run_timeout=5,
    )  # fmt: skip
    again = LoadPlan.model_validate_json(plan.model_dump_json(by_alias=True))
    assert again.scenario == profile.scenarios["s"]
