"""Bad config for every new key of a chaos experiment (an expectation that is a flow, the
background load and its per-phase limits): one line naming file:line:key and the fix."""

import pytest

from opsproof.config.loader import load_environment
from tests.config.conftest import VALID, ConfigFiles

PLAN = """\
    flows:
      - name: upload journey
        service: api
        steps:
          - name: upload
            request: {method: POST, path: /api/uploads, body: drawing}
            expect: {status: 202}
    chaos_plan:
      may_hit: [cache]
      experiments:
        - name: cache killed
          fault: {action: kill, service: cache}
          expect:
            - service: api
              request: {path: /health/deep}
              expect: {status: 5xx, json_absent: [ok]}
            - flow:
                service: api
                steps:
                  - name: upload refused
                    request: {method: POST, path: /api/uploads, body: drawing}
                    expect: {status: [502, 503], body_excludes: [Traceback]}
                    capture: {error: {json: error}}
                  - name: again
                    request: {path: "/api/x/${error}"}
                    expect: {status: 4xx}
              within: 2s
              hold: 1s
            - flow: upload journey
          load:
            profile: load/chaos.yaml
            locustfile: load/users.py
            service: api
            time_scale: 0.5
            max_requests: 5000
            workers: 1
            before: 2s
            after: 2s
            expect:
              before: {error_rate: "== 0", requests: ">= 5"}
              during: {error_rate: "<= 5%", p95: "< 2s"}
              after: {p95: "< 500ms", p99: "<= 1s", p50: "< 100ms"}
"""
WITH_PLAN = VALID.replace("    chaos: allowed\n", "    chaos: allowed\n" + PLAN)
EXPERIMENT = "environments.staging.chaos_plan.experiments[0]"
LOAD = f"{EXPERIMENT}.load"


def test_every_new_key_loads(cfg: ConfigFiles) -> None:
    environment = load_environment(cfg.write(WITH_PLAN), "staging", environ=cfg.environ)
    assert environment.environment.chaos_plan is not None
    [experiment] = environment.environment.chaos_plan.experiments
    single, inline, named = experiment.expect
    assert single.expect is not None and single.expect.status == "5xx"
    assert inline.flow is not None and not inline.flow.named
    # a captured variable of an expectation's flow is the flow's, left for it to fill in
    assert inline.flow.steps[1].request.path == "/api/x/${error}"
    assert named.flow is not None and named.flow.named and named.flow.name == "upload journey"
    assert experiment.load is not None
    during = experiment.load.expect["during"]
    assert during.error_rate is not None and during.error_rate.bound == 0.05
    assert during.p95 is not None and during.p95.bound == 2000.0


CASES = {
    "flow name": ("- flow: upload journey", "- flow: upload journy", f"{EXPERIMENT}.expect[2].flow",
                  "'upload journy' is not a flow of this environment; did you mean "
                  "'upload journey'?"),
    "flow and request": ("- flow: upload journey", "- flow: upload journey\n"
                         "              request: {path: /}", f"{EXPERIMENT}.expect[2]",
                         "give one request (service, request, expect) or a flow"),
    "neither": ("- flow: upload journey", "- within: 1s", f"{EXPERIMENT}.expect[2]",
                "give one request (service, request, expect) or a flow"),
    "flow with expect": ("- flow: upload journey", "- flow: upload journey\n"
                         "              expect: {status: 503}", f"{EXPERIMENT}.expect[2]",
                         "move service and expect into the flow"),
    "request without service": ("- service: api\n              request: {path: /health/deep}",
                                "- request: {path: /health/deep}", f"{EXPERIMENT}.expect[0]",
                                "add service: the http service the request asks"),
    "status class": ("status: 5xx", "status: 5xy", f"{EXPERIMENT}.expect[0].expect.status",
                     "'5xy' is not a status"),
    "inline without service": ("            - flow:\n                service: api\n",
                               "            - flow:\n", f"{EXPERIMENT}.expect[1].flow",
                               "add service: the http service the flow's steps ask"),
    "inline service": ("            - flow:\n                service: api\n",
                       "            - flow:\n                service: cache\n",
                       f"{EXPERIMENT}.expect[1].flow.service",
                       "'cache' is not an http service here (api)"),
    "inline step key": ("expect: {status: [502, 503], body_excludes",
                        "expekt: {status: [502, 503], body_excludes",
                        f"{EXPERIMENT}.expect[1].flow.steps[0].expekt",
                        "unknown key; did you mean 'expect'?"),
    "inline variable": ("/api/x/${error}", "/api/x/${eror}", f"{EXPERIMENT}.expect[1].flow.steps[1]"
                        ".request", "${eror} is captured by no earlier step of this flow"),
    "named with headers": ("- flow: upload journey", "- flow: {name: upload journey, headers: "
                           "{X-A: b}}", f"{EXPERIMENT}.expect[2].flow",
                           "a flow by name brings its own service and headers"),
    "inline headers": ("            - flow:\n                service: api\n",
                       "            - flow:\n                service: api\n"
                       "                headers: {Authorization: \"Bearer ${tok}\"}\n",
                       f"{EXPERIMENT}.expect[1].flow.headers",
                       "${tok} is captured by no step of this flow"),
    "load profile": ("profile: load/chaos.yaml", "profile: ''", f"{LOAD}.profile", "path"),
    "load key": ("before: 2s", "befor: 2s", f"{LOAD}.befor", "unknown key; did you mean 'before'?"),
    "load before": ("before: 2s", "before: 0s", f"{LOAD}.before", "must be more than 0"),
    "load after": ("after: 2s\n", "after: soon\n", f"{LOAD}.after", "'soon' is not a duration"),
    "load service": ("service: api\n            time_scale",
                     "service: cache\n            time_scale",
                     f"{LOAD}.service", "'cache' is not an http service here (api)"),
    "time scale": ("time_scale: 0.5", "time_scale: 0", f"{LOAD}.time_scale", "greater than 0"),
    "max requests": ("max_requests: 5000", "max_requests: 0", f"{LOAD}.max_requests",
                     "greater than or equal to 1"),
    "workers": ("workers: 1", "workers: many", f"{LOAD}.workers", "expected a whole number"),
    "locustfile": ("locustfile: load/users.py", "locustfile: [a]", f"{LOAD}.locustfile", ""),
    "phase": ("during: {error_rate", "durin: {error_rate", f"{LOAD}.expect.durin",
              "'during'"),
    "phase key": ("error_rate: \"<= 5%\"", "errors: \"<= 5%\"", f"{LOAD}.expect.during.errors",
                  "unknown key; did you mean 'error_rate'?"),
    "rate limit": ("\"<= 5%\"", "\"<= 500%\"", f"{LOAD}.expect.during.error_rate",
                   "a rate is from 0 to 1 (0% to 100%)"),
    "rate comparison": ("\"<= 5%\"", "5%", f"{LOAD}.expect.during.error_rate",
                        "is not a limit; write a comparison and a value, e.g. '<= 5%'"),
    "latency limit": ("\"< 500ms\"", "\"< fast\"", f"{LOAD}.expect.after.p95",
                      "'fast' is not a duration"),
    "requests limit": ("\">= 5\"", "\">= five\"", f"{LOAD}.expect.before.requests",
                       "is not a whole number of requests"),
}  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key", "message"), CASES.values(), ids=list(CASES))
def test_a_bad_key_is_one_line_with_the_fix(
    cfg: ConfigFiles, old: str, new: str, key: str, message: str
) -> None:
    assert old in WITH_PLAN
    text = WITH_PLAN.replace(old, new, 1)
    [problem] = cfg.problems(text)
    assert problem.key == key
    assert message in problem.message
    assert cfg.line_of(text, "flows:") <= problem.line <= cfg.line_of(text, "load: forbidden")
