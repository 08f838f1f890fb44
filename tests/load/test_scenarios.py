"""Config-only scenarios as real Locust runs against a server on loopback: weighted requests
with name tags and a flow with captures, no Python. Per-name thresholds catch the slow and the
failing name while the others pass, and the breakdown says why requests failed (429 from 404
from a refused connection); every new key's mistake names the file, line and key."""

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from opsproof.config.flows import FlowSpec
from opsproof.errors import ConfigError
from opsproof.evidence.records import RequestNameRecord
from opsproof.load.health import assess
from opsproof.load.name_rows import name_rows
from opsproof.load.profile import load_profile, profile_from_dict
from opsproof.load.result import LoadResult
from opsproof.load.runner import RunSettings, run_profile
from opsproof.load.script import MAX_FILE_BYTES, ScriptSources
from opsproof.load.target import LoadTarget
from opsproof.load.verdicts import judge
from opsproof.support.ports import free_ports
from tests.project import PROJECT_ROOT

Run = Callable[..., LoadResult]


@pytest.fixture
def run_scripted(server_url: str, tmp_path: Path) -> Run:
    """``run(options, **sources)``: a profile dict run with two workers against the server."""

    def go(options: dict[str, object], **sources: object) -> LoadResult:
        settings = RunSettings(locustfile=Path(__file__).with_name("locustfile.py"),
                               out_dir=tmp_path / "run")  # fmt: skip
        target = LoadTarget(host=server_url, timeout=5.0)
        scripts = ScriptSources(run_service="api", **sources)  # type: ignore[arg-type]
        return run_profile(profile_from_dict(options, "test"), target, settings, scripts)

    return go


def _rows(result: LoadResult) -> dict[str, RequestNameRecord]:
    return {row.name: row for row in name_rows(result.breakdown)}


def _verdicts(options: dict[str, object], result: LoadResult) -> dict[str, tuple[str, str]]:
    health = assess(result)
    return {
        t.id: ((verdict := judge(t, result, health)).outcome, verdict.reason)
        for t in profile_from_dict(options).thresholds
    }


def test_per_name_thresholds_fail_the_slow_and_the_failing_name_and_say_why(
    run_scripted: Run,
) -> None:
    (closed,) = free_ports(1)  # nothing listens: connections are refused
    options = {
        "scenarios": {
            "mix": {
                "executor": "constant-vus", "vus": 4, "duration": "2s",
                "requests": [
                    {"name": "fast", "weight": 3, "request": {"path": "/sleep/1"}},
                    {"name": "slow", "request": {"path": "/sleep/80"}},
                    {"name": "limited", "request": {"path": "/status/429"}},
                    {"name": "missing", "request": {"path": "/status/404"}},
                    {"name": "gone", "request": {"path": "/status/404"},
                     "expect": {"status": 404}},
                    {"name": "down", "service": "down", "request": {"path": "/"}},
                ],
            }
        },
        "thresholds": {
            "http_req_duration{name:fast}": ["p(95)<60"],
            "http_req_duration{name:slow}": ["p(95)<60"],
            "http_req_failed{name:fast}": ["rate==0"],
            "http_req_failed{name:gone}": ["rate==0"],
            "http_req_failed{name:limited}": ["rate<0.5"],
        },
    }  # fmt: skip
    down = LoadTarget(host=f"http://127.0.0.1:{closed}", timeout=2.0)
    result = run_scripted(options, services={"down": down})
    assert not result.errors
    verdicts = _verdicts(options, result)
    assert {name: outcome for name, (outcome, _) in verdicts.items()} == {
        "http_req_duration{name:fast}:p(95)<60": "passed",
        "http_req_duration{name:slow}:p(95)<60": "failed",  # the server sleeps 80 ms
        "http_req_failed{name:fast}:rate==0": "passed",
        "http_req_failed{name:gone}:rate==0": "passed",  # a 404 it expects
        "http_req_failed{name:limited}:rate<0.5": "failed",
    }
    limited_reason = verdicts["http_req_failed{name:limited}:rate<0.5"][1]
    assert "status mismatch ×" in limited_reason
    assert "expected status 200, got 429" in limited_reason
    rows = _rows(result)
    limited, missing, down_row = rows["limited"], rows["missing"], rows["down"]
    assert limited.failures == limited.requests > 0
    assert limited.statuses == {"429": limited.requests}
    assert limited.errors == {"status mismatch": limited.requests}
    assert missing.statuses == {"404": missing.requests}  # a 404 is told from a 429
    assert "got 404" in missing.examples["status mismatch"]
    assert down_row.statuses == {"none": down_row.requests}
    assert down_row.errors == {"connection refused": down_row.requests}
    assert rows["gone"].failures == rows["fast"].failures == 0
    assert rows["fast"].requests > rows["slow"].requests  # weight 3 against 1 (and faster)
    total = result.metrics.counters["http_reqs"][0]
    assert sum(row.requests for row in rows.values()) == total  # merged over both workers


def _flow(steps: list[dict[str, object]]) -> FlowSpec:
    return FlowSpec.model_validate({"name": "journey", "service": "api", "steps": steps})


def test_a_flow_scenario_captures_each_iteration_and_stops_at_a_failed_step(
    run_scripted: Run,
) -> None:
    passing = _flow([
        {"name": "new id", "request": {"path": "/id"}, "capture": {"id": {"json": "id"}}},
        {"name": "echo", "request": {"path": "/echo/${id}"},
         "expect": {"body_contains": "${id}", "body_excludes": ["${"]}},
    ])  # fmt: skip
    broken = _flow([
        {"name": "no such field", "request": {"path": "/id"},
         "capture": {"id": {"json": "nope"}}},
        {"name": "never sent", "request": {"path": "/echo/${id}"}},
        ])  # fmt: skip
    waits = _flow([
        {"name": "poll", "request": {"path": "/id"},
         "poll": {"json": "id", "until": ["never"], "interval": "50ms", "timeout": "200ms"}},
    ])  # fmt: skip
    scenario = {"executor": "per-vu-iterations", "vus": 2, "iterations": 5}
    options = {
        "scenarios": {
            "passing": {**scenario, "flow": "passing"},
            "broken": {**scenario, "flow": "broken"},
            "waits": {**scenario, "iterations": 1, "flow": "waits"},
        }
    }
    result = run_scripted(options, flows={"passing": passing, "broken": broken, "waits": waits})
    assert not result.errors
    rows = _rows(result)
    # 10 iterations, each with its own id: each echo found the id its own iteration captured
    assert rows["new id"].requests == rows["echo"].requests == 10
    assert rows["echo"].failures == 0
    assert rows["no such field"].errors == {"capture missed": 10}
    assert "nope: no such field" in rows["no such field"].examples["capture missed"]
    assert "never sent" not in rows  # the flow stops at its failed step
    poll = rows["poll"]
    assert poll.errors == {"poll timeout": 2} and poll.requests >= 6  # asked again while waiting


def test_uploads_travel_in_the_plan(run_scripted: Run, tmp_path: Path) -> None:
    """The latency server ignores bodies; the request's bytes on the wire prove the upload
    was read on this side and sent by the workers."""
    drawing = tmp_path / "drawing.txt"
    drawing.write_bytes(b"x" * 5000)
    options = {
        "scenarios": {
            "up": {
                "executor": "shared-iterations", "vus": 1, "iterations": 1,
                "requests": [{
                    "name": "upload",
                    "request": {"method": "POST", "path": "/status/200",
                                "files": {"file": {"path": str(drawing)}}},
                }],
            }
        },
        "thresholds": {"data_sent{name:upload}": ["count>5000"]},
    }  # fmt: skip
    result = run_scripted(options)
    assert not result.errors
    assert result.metrics.counters["http_reqs"][0] == 1
    assert _verdicts(options, result)["data_sent{name:upload}:count>5000"][0] == "passed"


def _profile(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text(text)
    return path


SCENARIO = "scenarios:\n  s:\n    executor: constant-vus\n    duration: 1s\n"


@pytest.mark.parametrize(
    ("text", "where", "complaint"),
    [
        (SCENARIO + "    requests:\n      - {name: a, wieght: 2, request: {path: /}}\n",
         "6:19: scenarios.s.requests[0].wieght", "did you mean 'weight'"),
        (SCENARIO + "    requests:\n      - {name: a, weight: 0, request: {path: /}}\n",
         "6:27: scenarios.s.requests[0].weight", "greater than or equal to 1"),
        (SCENARIO + "    requests:\n      - {weight: 1, request: {path: /}}\n",
         "6:9: scenarios.s.requests[0].name", "required"),
        (SCENARIO + "    requests:\n      - {name: a, request: {path: /}, expect: {stauts: 200}}\n",
         "6:48: scenarios.s.requests[0].expect.stauts", "did you mean 'status'"),
        (SCENARIO + "    requests: []\n", "5:15: scenarios.s.requests", "or remove requests"),
        (SCENARIO + "    flow: f\n    requests:\n      - {name: a, request: {path: /}}\n",
         "2:3: scenarios.s", "not both"),
        (SCENARIO + "    exec: Sleepy\n    flow: f\n", "2:3: scenarios.s", "remove exec"),
        (SCENARIO + "    sleep: 1s\n", "2:3: scenarios.s", "remove sleep"),
        (SCENARIO + "    flow: f\n    sleep: soon\n", "6:12: scenarios.s.sleep",
         "not a k6 duration"),
        (SCENARIO + "flow: f\n", "1:1:", "give each scenario its own"),
        ("vus: 1\nduration: 1s\nsleep: 1s\n", "1:1:", "add one, or remove sleep"),
        (SCENARIO + "    requests:\n      - name: a\n        request:\n          method: POST\n"
         "          path: /\n          files: {file: {path: absent.txt}}\n",
         "10:32: scenarios.s.requests[0].request.files.file.path", "fix the path"),
    ],
)  # fmt: skip
def test_a_mistake_in_a_new_key_names_the_file_line_and_key(
    tmp_path: Path, text: str, where: str, complaint: str
) -> None:
    path = _profile(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    (line,) = str(caught.value).splitlines()
    assert line.startswith(f"{path}:{where}"), line
    assert complaint in line


def test_an_upload_too_large_to_send_to_the_workers_is_refused(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"\0" * (MAX_FILE_BYTES + 1))
    request = "          method: POST\n          path: /\n          body_file: big.bin\n"
    path = _profile(
        tmp_path, SCENARIO + "    requests:\n      - name: a\n        request:\n" + request
    )
    with pytest.raises(ConfigError, match=rf"^{path}:10:22: .*at most {MAX_FILE_BYTES:,} bytes"):
        load_profile(path)


def test_a_flow_or_service_the_environment_lacks_is_named_at_its_line(tmp_path: Path) -> None:
    path = _profile(
        tmp_path,
        "scenarios:\n"
        "  a: {executor: constant-vus, duration: 1s, flow: checkout}\n"
        "  b:\n"
        "    executor: constant-vus\n"
        "    duration: 1s\n"
        "    requests:\n"
        "      - {name: x, service: billing, request: {path: /}}\n",
    )
    profile = load_profile(path)
    settings = RunSettings(locustfile=Path(__file__), out_dir=tmp_path / "run")
    sources = ScriptSources(flows={"login": _flow([{"name": "s", "request": {"path": "/"}}])},
                            services={"api": LoadTarget(host="http://127.0.0.1:9")},
                            run_service="api")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        run_profile(profile, LoadTarget(host="http://127.0.0.1:9"), settings, sources)
    first, second = str(caught.value).splitlines()
    assert first.startswith(f"{path}:2:51: scenarios.a.flow: 'checkout' is not a flow")
    assert "(flows: login)" in first
    assert second.startswith(f"{path}:7:28: scenarios.b.requests[0].service: 'billing'")
    assert "(api)" in second
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").glob("locust-*"))


def test_the_shipped_journey_profiles_name_what_their_environments_have() -> None:
    """journey.yaml's uploads are beside it; journey-flow.yaml names examples/journeys.yaml's
    flows (the stack tests run journey.yaml; this keeps the pair from drifting apart)."""
    profiles = PROJECT_ROOT / "load" / "profiles"
    journey = load_profile(profiles / "journey.yaml")
    (scenario,) = journey.written.values()
    assert {r.name for r in scenario.requests or []} >= {"health", "upload"}
    examples = yaml.safe_load((PROJECT_ROOT / "examples" / "journeys.yaml").read_text())
    reference = examples["environments"]["reference"]
    flows = {flow["name"] for flow in reference["flows"]}
    written = load_profile(profiles / "journey-flow.yaml").written.values()
    assert {s.flow for s in written} <= flows
    assert reference["load"] == "allowed"


@pytest.mark.parametrize("sleep", ["1s", "1000ms", "1500ms"])
def test_the_shortcut_paces_its_requests_by_the_sleep_as_written(sleep: str) -> None:
    """The top-level shortcut's scenario is built again from text: its pause must stay in
    seconds (a bare number would be read as milliseconds: 1 s became 1 ms once)."""
    profile = profile_from_dict(
        {
            "vus": 1,
            "duration": "1s",
            "sleep": sleep,
            "requests": [{"name": "a", "request": {"path": "/"}}],
        }
    )
    expected = {"1s": 1.0, "1000ms": 1.0, "1500ms": 1.5}[sleep]
    assert profile.scenarios["default"].sleep == pytest.approx(expected)  # type: ignore[union-attr]
