"""A flow can be the promised degradation: "an upload answers 503 naming Redis within 2 s while
Redis is down". It is judged again and again during the fault like a single request, and when
it does not show, the failure names the step, its request, expected against actual."""

from collections.abc import Callable
from pathlib import Path

from opsproof.faults.experiment import ChaosRun, run_experiment
from opsproof.runtimes.launched import StackState

WriteConfig = Callable[..., Path]
MakeRun = Callable[[Path], ChaosRun]

UPLOAD = """\
- name: {name}
  request:
    method: POST
    path: /api/uploads
    files: {{file: {{path: drawing.txt, content_type: text/plain}}}}
  expect: {expect}
"""

PLAN = """\
may_hit: [redis]
steady_state: [api, redis]
recovery: {{within: 10s, consecutive: 3}}
experiments:
  - name: redis killed
    fault: {{action: kill, service: redis}}
    expect:
      - flow:
          service: api
          steps:
            - name: deep health names redis
              request: {{path: /health/deep}}
              expect: {{status: 5xx, json: {{failed: [redis]}}}}
{upload}
        within: 2s
        hold: 300ms
"""


def _plan(upload_expect: str) -> str:
    upload = UPLOAD.format(name="upload", expect=upload_expect)
    indented = "".join(" " * 12 + line + "\n" for line in upload.splitlines())
    return PLAN.format(upload=indented.rstrip("\n"))


def _run(write_config: WriteConfig, chaos_run_for: MakeRun, upload_expect: str) -> ChaosRun:
    config = write_config(_plan(upload_expect))
    (config.parent / "drawing.txt").write_text("a drawing\n")
    return chaos_run_for(config)


def test_a_flow_that_degrades_as_promised_passes(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    run = _run(
        write_config,
        chaos_run_for,
        "{status: [502, 503], json: {error: dependency_unavailable, dependency: redis}, "
        "json_absent: [id], body_excludes: [Traceback], max_latency: 2s}",
    )
    assert run.environment.chaos_plan is not None
    result = run_experiment(run, run.environment.chaos_plan.experiments[0])
    assert result.verdict == "passed", result.reason
    assert result.outage_allowed  # the flow describes an error answer
    assert result.time_to_impact_s is not None and result.time_to_impact_s <= 2.0
    assert result.figures["expect1.seen_s"].value <= 2.0  # type: ignore[operator]
    assert "flow 'expectation 1'" in result.hypothesis
    assert "POST /api/uploads on api answers 502 or 503" in result.hypothesis


def test_a_flow_whose_step_does_not_degrade_fails_naming_the_step(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    """The upload is promised to keep being accepted while Redis is down; it is not."""
    run = _run(write_config, chaos_run_for, "{status: 202}")
    assert run.environment.chaos_plan is not None
    result = run_experiment(run, run.environment.chaos_plan.experiments[0])
    assert result.verdict == "failed", result.reason
    assert "not seen within 2 s" in result.reason
    assert "step 2/2 'upload' failed: POST https://" in result.reason
    assert "expected status 202, got 503" in result.reason


def test_a_flow_of_the_environment_named_in_an_expectation(
    healthy_stack: StackState, write_config: WriteConfig, chaos_run_for: MakeRun
) -> None:
    """``flow: NAME`` runs the environment's flow; killing PostgreSQL leaves uploads (kept
    in Redis) working, which is what the expectation promises."""
    plan = """\
        may_hit: [postgres]
        steady_state: [api, redis, postgres]
        recovery: {within: 15s, consecutive: 3}
        experiments:
          - name: postgres killed, uploads still accepted
            fault: {action: kill, service: postgres}
            expect:
              - flow: upload accepted
                within: 1s
                hold: 500ms
              - service: api
                request: {path: /health/deep}
                expect: {status: 5xx, json: {failed: [postgres]}}
                within: 2s
    """
    flows = (
        "flows:\n  - name: upload accepted\n    service: api\n    steps:\n"
        + "".join("      " + line + "\n" for line in UPLOAD.format(
            name="upload", expect="{status: 202, json: {status: queued}}").splitlines())
    )  # fmt: skip
    config = write_config(plan, extra_environment=flows)
    (config.parent / "drawing.txt").write_text("a drawing\n")
    run = chaos_run_for(config)
    assert run.environment.chaos_plan is not None
    result = run_experiment(run, run.environment.chaos_plan.experiments[0])
    assert result.verdict == "passed", result.reason
    assert "flow 'upload accepted' (POST /api/uploads on api answers 202" in result.hypothesis
