"""k6's options vocabulary as a validated model: shortcuts, scenarios with their executors, and
thresholds (plain strings or the long form with abortOnFail and delayAbortEval).

Field names and defaults are k6's (``preAllocatedVUs``, ``gracefulStop: 30s``); the rules k6
enforces when it reads options are enforced here, so a profile k6 rejects is rejected too.
"""

import re
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from opsproof.config.flows import FlowExpectSpec, FlowRequestSpec
from opsproof.errors import ThresholdSyntaxError
from opsproof.load.durations import parse_k6_duration
from opsproof.load.thresholds import check_applies, check_selector, parse_expression, parse_selector
from opsproof.load.tolerances import RegressionSpec

K6Duration = Annotated[
    float,
    BeforeValidator(parse_k6_duration),
    PlainSerializer(lambda seconds: _text(seconds), when_used="json"),
]
"""Seconds, written as k6 writes durations (``30s``, ``1m30s``) or as milliseconds; as JSON,
microseconds text, so a dumped scenario validates back to itself."""

_SCENARIO_NAME = re.compile(r"^[0-9a-zA-Z_-]+$")
DEFAULT_SCENARIO = "default"


class K6Model(BaseModel):
    """Unknown keys are errors (a typo never passes silently); values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Stage(K6Model):
    duration: K6Duration
    target: int = Field(ge=0, description="VUs (or iterations per timeUnit) at the stage's end")


class WeightedRequestSpec(K6Model):
    """One request of a config-only scenario: each iteration sends one request, chosen by
    weight, and judges its answer as a flow step's (``http.*`` + ``check`` in k6)."""

    name: str = Field(min_length=1, description="the name tag: thresholds and the breakdown")
    weight: int = Field(default=1, ge=1, description="chosen weight/(sum of weights) of the time")
    service: str | None = Field(
        default=None, description="an http service of the environment; default: the run's"
    )
    request: FlowRequestSpec
    expect: FlowExpectSpec = Field(default_factory=FlowExpectSpec)


def _some_requests(
    requests: list[WeightedRequestSpec] | None,
) -> list[WeightedRequestSpec] | None:
    if requests is not None and not requests:
        raise ValueError(
            "give at least one request, e.g. - {name: home, request: {path: /}}, or remove requests"
        )
    return requests


Requests = Annotated[list[WeightedRequestSpec] | None, AfterValidator(_some_requests)]


class ScenarioBase(K6Model):
    start_time: K6Duration = Field(default=0.0, alias="startTime")
    graceful_stop: K6Duration = Field(default=30.0, alias="gracefulStop")
    exec_: str = Field(
        default=DEFAULT_SCENARIO,
        alias="exec",
        description="Locust user class that runs each iteration; 'default': the only one",
    )
    requests: Requests = Field(
        default=None,
        description="weighted requests, one per iteration (instead of a Locust user class)",
    )
    flow: str | None = Field(
        default=None,
        min_length=1,
        description="a flow of the environment, run whole each iteration (instead of a class)",
    )
    sleep: K6Duration = Field(
        default=0.0, ge=0, description="pause after each iteration of requests or a flow"
    )
    tags: dict[str, str] = Field(default_factory=dict)
    env: dict[str, str] = Field(default_factory=dict)

    @property
    def scripted(self) -> bool:
        """Whether the scenario runs requests or a flow from its config, not a user class."""
        return self.requests is not None or self.flow is not None

    @model_validator(mode="after")
    def _one_behaviour(self) -> "ScenarioBase":
        if self.requests is not None and self.flow is not None:
            raise ValueError("a scenario runs `requests` or a `flow`, not both: keep one")
        if self.scripted and self.exec_ != DEFAULT_SCENARIO:
            raise ValueError(
                "`exec` names a Locust user class; a scenario with `requests` or `flow` runs "
                "them itself: remove exec, or the requests/flow"
            )
        if not self.scripted and self.sleep:
            raise ValueError(
                "`sleep` paces `requests` or a `flow`; a Locust user class paces itself "
                "(wait_time): remove sleep"
            )
        return self


class ConstantVus(ScenarioBase):
    executor: Literal["constant-vus"]
    vus: int = Field(default=1, gt=0)
    duration: K6Duration = Field(ge=1.0, description="at least 1s, as in k6")


class RampingVus(ScenarioBase):
    executor: Literal["ramping-vus"]
    start_vus: int = Field(default=1, ge=0, alias="startVUs")
    stages: list[Stage] = Field(min_length=1)
    graceful_ramp_down: K6Duration = Field(default=30.0, alias="gracefulRampDown")

    @model_validator(mode="after")
    def _some_vus(self) -> "RampingVus":
        if self.start_vus == 0 and all(stage.target == 0 for stage in self.stages):
            raise ValueError("either startVUs or one of the stages' targets must be above 0")
        return self


class ArrivalRateBase(ScenarioBase):
    time_unit: K6Duration = Field(default=1.0, gt=0, alias="timeUnit")
    pre_allocated_vus: int = Field(ge=0, alias="preAllocatedVUs")
    max_vus: int | None = Field(
        default=None, ge=0, alias="maxVUs", description="default: preAllocatedVUs"
    )

    @property
    def vus_limit(self) -> int:
        return self.pre_allocated_vus if self.max_vus is None else self.max_vus

    @model_validator(mode="after")
    def _enough_vus(self) -> "ArrivalRateBase":
        if self.vus_limit < self.pre_allocated_vus:
            raise ValueError("maxVUs cannot be below preAllocatedVUs")
        if self.vus_limit == 0:
            raise ValueError("preAllocatedVUs or maxVUs must be above 0")
        return self


class ConstantArrivalRate(ArrivalRateBase):
    executor: Literal["constant-arrival-rate"]
    rate: int = Field(gt=0, description="iterations started per timeUnit")
    duration: K6Duration = Field(ge=1.0)


class RampingArrivalRate(ArrivalRateBase):
    executor: Literal["ramping-arrival-rate"]
    start_rate: int = Field(default=0, ge=0, alias="startRate")
    stages: list[Stage] = Field(min_length=1)


class PerVuIterations(ScenarioBase):
    executor: Literal["per-vu-iterations"]
    vus: int = Field(default=1, gt=0)
    iterations: int = Field(default=1, gt=0, description="iterations each VU runs")
    max_duration: K6Duration = Field(default=600.0, ge=1.0, alias="maxDuration")


class SharedIterations(ScenarioBase):
    executor: Literal["shared-iterations"]
    vus: int = Field(default=1, gt=0)
    iterations: int = Field(default=1, gt=0, description="iterations shared by all VUs")
    max_duration: K6Duration = Field(default=600.0, ge=1.0, alias="maxDuration")

    @model_validator(mode="after")
    def _iterations_cover_vus(self) -> "SharedIterations":
        if self.iterations < self.vus:
            raise ValueError(
                f"iterations ({self.iterations}) cannot be below vus ({self.vus}), as in k6"
            )
        return self


Scenario = Annotated[
    ConstantVus
    | RampingVus
    | ConstantArrivalRate
    | RampingArrivalRate
    | PerVuIterations
    | SharedIterations,
    Field(discriminator="executor"),
]
ArrivalRate = ConstantArrivalRate | RampingArrivalRate


class ThresholdConfig(K6Model):
    """k6's long form: ``{threshold: 'p(95)<500', abortOnFail: true, delayAbortEval: '10s'}``."""

    threshold: str
    abort_on_fail: bool = Field(default=False, alias="abortOnFail")
    delay_abort_eval: K6Duration | None = Field(default=None, alias="delayAbortEval")


def _text(seconds: float) -> str:
    """A duration as k6 text: a bare number would be read as milliseconds."""
    return f"{round(seconds * 1e6)}us"


def _threshold_problems(
    thresholds: dict[str, list[ThresholdConfig]],
) -> Iterator[InitErrorDetails]:
    for metric, entries in thresholds.items():
        selector = parse_selector(metric)  # checked as the key was validated
        for index, entry in enumerate(entries):
            try:
                check_applies(selector, parse_expression(entry.threshold))
            except ThresholdSyntaxError as error:
                yield _located(("thresholds", metric, index), entry.threshold, str(error))


def _located(loc: tuple[str | int, ...], value: str, message: str) -> InitErrorDetails:
    error = PydanticCustomError("invalid_threshold", "{message}", {"message": message})
    return InitErrorDetails(type=error, loc=loc, input=value)


def _threshold_config(value: object) -> object:
    if isinstance(value, str):
        _ = parse_expression(value)  # a syntax error is reported at the string itself
        return ThresholdConfig(threshold=value)
    return value


def _metric_key(value: str) -> str:
    check_selector(parse_selector(value))
    return value


ThresholdEntry = Annotated[ThresholdConfig, BeforeValidator(_threshold_config)]
MetricKey = Annotated[str, AfterValidator(_metric_key)]


class Options(K6Model):
    """A load profile in k6's options vocabulary."""

    vus: int | None = Field(default=None, gt=0)
    duration: K6Duration | None = None
    iterations: int | None = Field(default=None, gt=0)
    stages: list[Stage] | None = None
    scenarios: dict[str, Scenario] | None = None
    requests: Requests = Field(default=None, description="the shortcut scenario's requests")
    flow: str | None = Field(default=None, min_length=1, description="the shortcut's flow")
    sleep: K6Duration = Field(default=0.0, ge=0, description="the shortcut's pause")
    thresholds: dict[MetricKey, list[ThresholdEntry]] = Field(default_factory=dict)
    regression: RegressionSpec | None = Field(
        default=None, description="how far a run may drift from its baseline (--load-baseline)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Options":
        shortcuts = [
            name for name in ("iterations", "duration", "stages") if getattr(self, name) is not None
        ]
        if self.iterations is not None and self.stages:
            raise ValueError("`iterations` and `stages` cannot be used together (as in k6)")
        if self.duration is not None and self.stages:
            raise ValueError("`duration` and `stages` cannot be used together (as in k6)")
        if shortcuts and self.scenarios is not None:
            raise ValueError(
                f"`{shortcuts[0]}` is a shortcut for a scenario; use it or `scenarios`, not both"
            )
        behaviour = [
            name for name in ("requests", "flow", "sleep") if name in self.model_fields_set
        ]
        if behaviour and self.scenarios is not None:
            raise ValueError(
                f"top-level `{behaviour[0]}` belongs to the shortcut scenario; with `scenarios`, "
                "give each scenario its own"
            )
        if self.requests is not None and self.flow is not None:
            raise ValueError("the shortcut runs `requests` or a `flow`, not both: keep one")
        if self.sleep and self.requests is None and self.flow is None:
            raise ValueError("`sleep` paces `requests` or a `flow`: add one, or remove sleep")
        if self.vus is not None and not shortcuts and self.scenarios is None:
            raise ValueError("`vus` alone runs nothing; add duration, iterations or stages")
        for name in self.scenarios or {}:
            if not _SCENARIO_NAME.match(name):
                raise ValueError(f"scenario name {name!r} may use only letters, digits, _ and -")
        problems = list(_threshold_problems(self.thresholds))
        if problems:
            # a ValidationError keeps each problem's location, so the profile's line is named
            raise ValidationError.from_exception_data(type(self).__name__, problems)
        return self

    def derived_scenarios(self) -> dict[str, Scenario]:
        """``scenarios``, or the one scenario k6 derives from the shortcut options."""
        if self.scenarios is not None:
            return dict(self.scenarios)
        vus = self.vus or 1
        scenario: Scenario
        if self.iterations is not None:
            max_duration = self.duration if self.duration is not None else 600.0
            scenario = SharedIterations.model_validate(
                {
                    "executor": "shared-iterations",
                    "vus": vus,
                    "iterations": self.iterations,
                    "maxDuration": _text(max_duration),
                }
            )
        elif self.duration is not None:
            scenario = ConstantVus.model_validate(
                {"executor": "constant-vus", "vus": vus, "duration": _text(self.duration)}
            )
        elif self.stages:
            scenario = RampingVus(executor="ramping-vus", startVUs=vus, stages=self.stages)
        else:
            scenario = PerVuIterations(executor="per-vu-iterations")
        behaviour = {"requests": self.requests, "flow": self.flow, "sleep": _text(self.sleep)}
        # validated again, so the scenario's own rules (one behaviour, sleep) hold for it
        scenario = type(scenario).model_validate(
            scenario.model_dump(by_alias=True, mode="json")
            | {k: v for k, v in behaviour.items() if k in self.model_fields_set}
        )
        return {DEFAULT_SCENARIO: scenario}
