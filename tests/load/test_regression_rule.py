"""The rule that calls a change a regression (no network): beyond the tolerance *and* the noise
bound; the noise bound from order statistics and from a bootstrap over the run's seconds;
tolerances from the profile; the shape a baseline must share; which run ``previous`` is."""

import json
import math
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsproof.errors import BaselineRefused, ConfigError
from opsproof.load.baseline import Shape, previous_run, read_run
from opsproof.load.noise import (
    Errors,
    RowSample,
    SecondSample,
    design_effect,
    independent_errors,
    latencies_of,
    quantile,
    seconds_errors,
)
from opsproof.load.profile import load_profile
from opsproof.load.regression import NOISE_Z, comparable, compare, decide
from opsproof.load.stats import Trend
from opsproof.load.tolerances import DEFAULTS, RegressionSpec, tolerances_for

DEFAULT = tolerances_for(None, None)
figures = st.floats(min_value=0, max_value=1e4, allow_nan=False)
errors = st.floats(min_value=0, max_value=1e3, allow_nan=False)


@given(figures, figures, errors, errors, st.floats(min_value=0, max_value=5))
def test_a_regression_exceeds_both_the_tolerance_and_the_noise_bound(
    baseline: float, now: float, se_base: float, se_now: float, tolerance: float
) -> None:
    judged = decide("p95", baseline, now, (se_base, se_now), tolerance)
    assert judged.noise == pytest.approx(NOISE_Z * math.hypot(se_base, se_now))
    beyond = now - baseline > tolerance * baseline and now - baseline > judged.noise
    assert (judged.outcome == "regressed") == beyond
    better = baseline - now > tolerance * baseline and baseline - now > judged.noise
    assert (judged.outcome == "improved") == better


def test_throughput_regresses_when_it_falls_and_the_error_rate_in_points() -> None:
    assert decide("throughput", 100, 80, (1, 1), 0.1).outcome == "regressed"
    assert decide("throughput", 100, 120, (1, 1), 0.1).outcome == "improved"
    assert decide("error_rate", 0.001, 0.004, (0, 0), 0.005).outcome == "unchanged"  # +0.3pp
    assert decide("error_rate", 0.001, 0.010, (0, 0), 0.005).outcome == "regressed"  # +0.9pp


def test_a_rise_past_the_tolerance_within_the_noise_is_not_a_regression() -> None:
    # p95 of 40 requests moved 20% with a 10% tolerance: two such runs differ that much
    judged = decide("p95", 100.0, 120.0, (9.0, 9.0), 0.10)
    assert judged.outcome == "unchanged" and judged.noise > 20
    assert "noise bound 25.5 ms" in judged.words()
    # the same rise measured on many requests is one
    assert decide("p95", 100.0, 120.0, (1.0, 1.0), 0.10).outcome == "regressed"


def test_a_percentile_with_too_few_requests_above_it_is_not_compared() -> None:
    hundred, thousand = _sample([1.0] * 100), _sample([1.0] * 1000)
    assert [c.metric for c in compare((hundred, Errors()), (thousand, Errors()), DEFAULT)] == [
        "p50", "p95", "error_rate", "throughput",
    ]  # fmt: skip  # p99 of 100 requests: one above it
    assert comparable("p99", thousand, thousand) and not comparable(
        "p95", _sample([1.0] * 99), thousand
    )


def _sample(values: list[float], failures: int = 0, duration: float = 10.0) -> RowSample:
    trend = Trend()
    trend.record_all(int(v * 1000) for v in values)
    return RowSample(len(values), failures, duration, latencies_of(trend))


def test_the_noise_of_a_percentile_shrinks_with_the_requests_measured() -> None:
    draw = random.Random(3)
    few = _sample([draw.lognormvariate(3, 0.5) for _ in range(50)])
    many = _sample([draw.lognormvariate(3, 0.5) for _ in range(20_000)])
    assert independent_errors(many).of("p95") < independent_errors(few).of("p95") / 5
    assert quantile(many.latencies, 0.5) == pytest.approx(math.exp(3), rel=0.05)


def _seconds(slow_every: int) -> list[SecondSample]:
    draw, seconds = random.Random(5), []
    for t in range(30):
        slow = slow_every and t % slow_every == 0
        values = [draw.uniform(40, 60) if slow else draw.uniform(1, 3) for _ in range(100)]
        seconds.append(SecondSample(100, 0, _sample(values).latencies))
    return seconds


def test_slow_seconds_widen_the_noise_beyond_what_independent_requests_show() -> None:
    steady, bursty = _seconds(0), _seconds(6)  # bursty: every sixth second all requests slow
    for seconds in (steady, bursty):
        whole = RowSample(3000, 0, 30.0, _merged(seconds))
        effect = design_effect(seconds_errors(seconds), independent_errors(whole))
        if seconds is steady:
            assert effect["p50"] < 2.5  # seconds alike: about what independent requests give
        else:
            assert effect["p95"] > 5  # a whole second slow moves many requests at once


def _merged(seconds: list[SecondSample]) -> tuple[tuple[float, int], ...]:
    merged: dict[float, int] = {}
    for second in seconds:
        for value, count in second.latencies:
            merged[value] = merged.get(value, 0) + count
    return tuple(sorted(merged.items()))


def test_tolerances_fall_back_from_the_name_to_the_profile_to_the_defaults(
    tmp_path: Path,
) -> None:
    spec = RegressionSpec.model_validate(
        {"p95": "20%", "error_rate": "1pp", "names": {"upload": {"p95": "50%"}}}
    )
    assert tolerances_for(spec, "upload").of("p95") == 0.5
    assert tolerances_for(spec, "health").of("p95") == 0.2
    assert tolerances_for(spec, None).of("error_rate") == 0.01
    assert tolerances_for(None, "x").values == DEFAULTS
    profile = tmp_path / "p.yaml"
    profile.write_text("vus: 1\nduration: 1s\nregression:\n  p95: 10\n")
    with pytest.raises(ConfigError, match=r"p\.yaml:4:8: regression\.p95: .*e\.g\. '10%'"):
        load_profile(profile)


def test_a_baseline_of_another_shape_is_refused_in_one_line() -> None:
    this = Shape("steady", "abc", 1.0, "http://127.0.0.1:8000")
    assert this.differs(this) is None
    assert "its time scale 0.5 is not this run's 1" in str(
        this.differs(Shape("steady", "abc", 0.5, this.target))
    )
    assert "its profile differs" in str(this.differs(Shape("steady", "abd", 1.0, this.target)))
    assert "its target http://x is not" in str(
        this.differs(Shape("steady", "abc", 1.0, "http://x"))
    )


def _run(reports: Path, name: str, environment: str, verdict: str, profile: str) -> Path:
    run_dir = reports / name
    run_dir.mkdir(parents=True)
    (run_dir / "evidence.json").write_text(
        json.dumps({"environment": environment, "verdict": verdict})
    )
    (run_dir / "load-summary.json").write_text(json.dumps({"profile": profile}))
    return run_dir


def test_previous_is_the_newest_passed_run_of_the_environment_and_profile(tmp_path: Path) -> None:
    wanted = _run(tmp_path, "20261201T000000Z-load-lab", "lab", "passed", "steady")
    _run(tmp_path, "20261202T000000Z-load-lab", "lab", "failed", "steady")
    _run(tmp_path, "20261203T000000Z-load-lab", "lab", "passed", "ramp")
    _run(tmp_path, "20261204T000000Z-load-prod", "prod", "passed", "steady")
    current = _run(tmp_path, "20261205T000000Z-load-lab", "lab", "passed", "steady")
    assert previous_run(tmp_path, "lab", "steady", exclude=current) == wanted
    assert previous_run(tmp_path, "lab", "other", exclude=None) is None
    with pytest.raises(BaselineRefused, match="lacks what a baseline needs"):
        read_run(wanted)  # an older run's summary without histograms per name
