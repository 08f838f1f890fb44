"""Bad config for every key of a flow: one line naming file:line:key and the fix."""

import pytest

from opsproof.config.loader import load_environment
from tests.config.conftest import VALID, ConfigFiles

FLOW = """\
    flows:
      - name: upload
        service: api
        steps:
          - name: send
            request:
              method: POST
              path: /api/uploads
              files: {file: {path: a.txt, content_type: text/plain}}
              form: {delay: "1"}
              timeout: 2s
            expect: {status: 202, json_absent: [error], body_excludes: [Traceback]}
            capture: {job_id: {json: id}, where: {header: Location}, token: {regex: "t=(\\\\w+)"}}
          - name: wait
            request: {path: "/api/uploads/${job_id}"}
            poll: {json: status, until: [done], fail_on: [failed], interval: 100ms, timeout: 5s}
            expect: {status: 2xx}
          - name: get
            request: {path: "/api/uploads/${job_id}/result"}
            expect:
              status: [200, 203]
              signature: png
              size: {min: 1KiB, max: 1MiB, smaller_than: send.sent}
            save: out.png
"""
WITH_FLOW = VALID.replace("    slo:\n", FLOW + "    slo:\n")
STEPS = "environments.staging.flows[0].steps"


def test_a_flow_with_every_key_loads(cfg: ConfigFiles) -> None:
    flow = load_environment(cfg.write(WITH_FLOW), "staging", environ=cfg.environ).environment
    [upload] = flow.flows
    assert [step.name for step in upload.steps] == ["send", "wait", "get"]
    assert upload.steps[1].expect.status == "2xx"
    assert upload.steps[2].expect.status == (200, 203)
    # captured variables are left for the flow to fill in as it runs
    assert upload.steps[1].request.path == "/api/uploads/${job_id}"


CASES = {
    "status class": ("status: 2xx}", "status: 2xy}", f"{STEPS}[1].expect.status",
                     "'2xy' is not a status; write a status (200), a list of them"),
    "status list": ("status: [200, 203]", "status: [200, '203']", f"{STEPS}[2].expect.status",
                    "is not a status; write a status (200), a list of them ([200, 201])"),
    "status range": ("status: 202,", "status: 700,", f"{STEPS}[0].expect.status",
                     "an HTTP status is a number from 100 to 599"),
    "capture source": ("job_id: {json: id}", "job_id: {json: id, header: X}",
                       f"{STEPS}[0].capture.job_id", "capture from exactly one of json: PATH"),
    "capture regex": ('"t=(\\\\w+)"', '"t=(("', f"{STEPS}[0].capture.token.regex",
                      "not a regular expression: missing )"),
    "capture name": ("job_id: {json: id}", "job-id: {json: id}", f"{STEPS}[0].capture",
                     "'job-id' cannot be a variable name: use letters, digits and _"),
    "variable": ("${job_id}\"}", "${jobid}\"}", f"{STEPS}[1].request",
                 "${jobid} is captured by no earlier step of this flow (captured so far: job_id, "
                 "where, token); capture it first, or export jobid if it is a variable"),
    "poll until": ("until: [done], ", "", f"{STEPS}[1].poll",
                   "name the terminal values of the field: until: [done, ...]"),
    "poll field": ("json: status, ", "", f"{STEPS}[1].poll",
                   "until and fail_on name values of a field: add json: PATH"),
    "poll interval": ("interval: 100ms", "interval: soon", f"{STEPS}[1].poll.interval",
                      "'soon' is not a duration"),
    "poll key": ("fail_on:", "fails_on:", f"{STEPS}[1].poll.fails_on",
                 "unknown key; did you mean 'fail_on'?"),
    "files": ("path: a.txt, ", "", f"{STEPS}[0].request.files.file.path",
              "missing required key; add 'path: ...' under 'file'"),
    "form": ('form: {delay: "1"}', "form: {delay: [1]}", f"{STEPS}[0].request.form.delay",
             "expected text"),
    "bodies": ('form: {delay: "1"}', 'form: {delay: "1"}\n              body_file: b.bin',
               f"{STEPS}[0].request", "one body per request: keep one of body_file, files/form"),
    "timeout": ("timeout: 2s", "timeout: 0s", f"{STEPS}[0].request.timeout", "must be more than 0"),
    "size relation": ("smaller_than: send.sent", "smaller_than: sent.send",
                      f"{STEPS}[2].expect.size.smaller_than", "write STEP.sent (the bytes"),
    "size step": ("smaller_than: send.sent", "smaller_than: nope.sent",
                  f"{STEPS}[2].expect.size.smaller_than", "no earlier step is called 'nope'"),
    "save": ("save: out.png", "save: ../out.png", f"{STEPS}[2].save",
             "a file name without directories"),
    "json_absent": ("json_absent: [error]", "json_absent: error", f"{STEPS}[0].expect.json_absent",
                    "expected a list"),
    "body_excludes": ("body_excludes: [Traceback]", "body_excludes: [{a: 1}]",
                      f"{STEPS}[0].expect.body_excludes[0]", "expected text"),
    "step name": ("- name: wait", "- name: send", f"{STEPS}[1].name",
                  "'send' is used twice in this flow; name each step once"),
    "capture secret": ("job_id: {json: id}", "job_id: {json: id, secret: maybe}",
                       f"{STEPS}[0].capture.job_id.secret", "expected true or false"),
    "content type": ("content_type: text/plain", 'content_type: "text/plain\\r\\nX: 1"',
                     f"{STEPS}[0].request.files.file.content_type", "header value"),
    "poll timeout": ("100ms, timeout: 5s", "100ms, timeout: 0s", f"{STEPS}[1].poll.timeout",
                     "must be more than 0"),
    "size max": ("max: 1MiB", "max: -1", f"{STEPS}[2].expect.size.max",
                 "not a size; write a number of bytes"),
    "step service": ("            request: {path: \"/api/uploads/${job_id}\"}",
                     "            service: web\n"
                     "            request: {path: \"/api/uploads/${job_id}\"}",
                     f"{STEPS}[1].service", "'web' is not an http service here (api)"),
    "flow name": ("  - name: upload\n", "  - name: upload\n        service: api\n        steps: "
                  "[{name: x, request: {path: /}}]\n      - name: upload\n",
                  "environments.staging.flows[1].name", "'upload' is used twice; flow names are"),
    "flow headers": ("  - name: upload\n        service: api\n",
                     "  - name: upload\n        service: api\n"
                     "        headers: {Authorization: \"Bearer ${tok}\"}\n",
                     "environments.staging.flows[0].headers",
                     "${tok} is captured by no step of this flow (captured: job_id, where, token)"),
    "jsonpath": ("job_id: {json: id}", "job_id: {json: \"$.items[\"}",
                 f"{STEPS}[0].capture.job_id.json", "not a JSONPath ("),
    "json key": ("json_absent: [error]", "json_absent: [\"$..[?\"]",
                 f"{STEPS}[0].expect.json_absent[0]", "write e.g. $.items[0].id"),
    "flow service": ("service: api\n        steps", "service: web\n        steps",
                     "environments.staging.flows[0].service", "'web' is not an http service here"),
}  # fmt: skip


@pytest.mark.parametrize(("old", "new", "key", "message"), CASES.values(), ids=list(CASES))
def test_a_bad_flow_key_is_one_line_with_the_fix(
    cfg: ConfigFiles, old: str, new: str, key: str, message: str
) -> None:
    assert old in WITH_FLOW
    text = WITH_FLOW.replace(old, new, 1)
    [problem] = cfg.problems(text)
    assert problem.key == key
    assert message in problem.message
    # the line is in the flow, on the value itself when the change is one unique line
    assert cfg.line_of(text, "flows:") < problem.line < cfg.line_of(text, "slo:")
    changed = new.splitlines()[-1].strip() if new else ""
    if changed and text.count(changed) == 1 and problem.key.endswith(("status", "interval")):
        assert problem.line == cfg.line_of(text, changed)


def test_a_flow_without_steps_says_what_a_step_looks_like(cfg: ConfigFiles) -> None:
    head, _, _ = WITH_FLOW.partition("        steps:\n")
    text = head + "        steps: []\n    slo:\n" + WITH_FLOW.partition("    slo:\n")[2]
    [problem] = cfg.problems(text)
    assert problem.key == "environments.staging.flows[0].steps"
    assert problem.line == cfg.line_of(text, "steps: []")
    assert "a flow needs at least one step" in problem.message


def test_secret_looking_form_fields_and_flow_headers_are_secrets(cfg: ConfigFiles) -> None:
    text = WITH_FLOW.replace('form: {delay: "1"}', 'form: {delay: "1", password: hunter2-pw}')
    text = text.replace(
        "  - name: upload\n        service: api\n",
        "  - name: upload\n        service: api\n        headers: {X-Api-Token: tok-12345}\n",
    )
    loaded = load_environment(cfg.write(text), "staging", environ=cfg.environ)
    assert {"hunter2-pw", "tok-12345"} <= loaded.secrets
    assert "1" not in loaded.secrets
