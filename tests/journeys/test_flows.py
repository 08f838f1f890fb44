"""Flows against the real reference stack: the upload journey passes, and each way it can
break fails naming the step, the request, expected against actual and what was captured."""

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opsproof.config.flows import FlowSpec
from opsproof.config.models import HttpService
from opsproof.journeys.flow import FlowContext, run_flow

pytestmark = pytest.mark.stack

UPLOAD, MALFORMED = 0, 1


def test_upload_poll_download_passes_and_saves_the_result(run_journey, tmp_path: Path) -> None:
    observation, _ = run_journey(UPLOAD)
    assert observation.ok, observation.reason
    lines = observation.reason.splitlines()
    assert lines[0] == "flow 'an uploaded drawing is rendered and downloaded': 3 steps passed"
    assert "step 1 'upload': POST https://" in lines[1] and "202 in" in lines[1]
    assert "of polling" in lines[2]
    saved = tmp_path / "run" / "flows" / "an-uploaded-drawing-is-rendered-and-downloaded"
    png = (saved / "drawing.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    figures = observation.figures
    assert figures["2 wait for the worker: poll_s"].value >= 0.3  # the worker's delay
    assert figures["2 wait for the worker: polls"].value >= 2
    assert figures["3 download the PNG: bytes"].value == len(png)


def test_the_malformed_drawing_flow_passes(run_journey) -> None:
    observation, _ = run_journey(MALFORMED)
    assert observation.ok, observation.reason


def _step(flows: list[dict[str, Any]], flow: int, step: int) -> dict[str, Any]:
    found: dict[str, Any] = flows[flow]["steps"][step]
    return found


def test_wrong_terminal_state_names_the_step_and_the_state(run_journey) -> None:
    def expect_done(flows: list[dict[str, Any]]) -> None:
        _step(flows, MALFORMED, 1)["expect"] = {"json": {"status": "done"}}

    observation, _ = run_journey(MALFORMED, expect_done)
    assert not observation.ok
    reason = observation.reason
    assert "step 2/3 'the worker rejects it' failed: GET https://" in reason
    assert "/api/uploads/" in reason
    assert 'expected status = "done", got "failed"' in reason
    assert "captured: upload_id=" in reason


def test_failure_state_fails_at_once(run_journey) -> None:
    def fail_on_failed(flows: list[dict[str, Any]]) -> None:
        _step(flows, MALFORMED, 1)["poll"].update(until=["done"], fail_on=["failed"])

    observation, _ = run_journey(MALFORMED, fail_on_failed)
    assert not observation.ok
    assert 'status reached failure state "failed" (fail_on: ["failed"])' in observation.reason
    assert "step 2/3" in observation.reason
    assert observation.figures["2 the worker rejects it: poll_s"].value < 10


def test_poll_timeout_says_how_long_and_what_it_saw(run_journey) -> None:
    def slow_worker(flows: list[dict[str, Any]]) -> None:
        _step(flows, UPLOAD, 0)["request"]["form"] = {"delay": "5"}
        _step(flows, UPLOAD, 1)["poll"]["timeout"] = "1s"

    observation, _ = run_journey(UPLOAD, slow_worker)
    assert not observation.ok
    reason = observation.reason
    assert "step 2/3 'wait for the worker' failed" in reason
    assert "poll timeout: waited" in reason and 'of 1 s for status in ["done"]' in reason
    assert 'still "processing"' in reason or 'still "queued"' in reason


def test_signature_mismatch(run_journey) -> None:
    def want_a_pdf(flows: list[dict[str, Any]]) -> None:
        _step(flows, UPLOAD, 2)["expect"]["signature"] = "pdf"
        _step(flows, UPLOAD, 2)["expect"].pop("content_type")

    observation, _ = run_journey(UPLOAD, want_a_pdf)
    assert not observation.ok
    assert "step 3/3 'download the PNG' failed: GET https://" in observation.reason
    assert "expected a pdf body, got png" in observation.reason


def test_status_class_mismatch(run_journey) -> None:
    def want_a_server_error(flows: list[dict[str, Any]]) -> None:
        _step(flows, UPLOAD, 2)["expect"]["status"] = "5xx"

    observation, _ = run_journey(UPLOAD, want_a_server_error)
    assert not observation.ok
    assert "expected status 5xx, got 200" in observation.reason


def test_size_relation_to_the_upload(run_journey) -> None:
    def larger_than_upload(flows: list[dict[str, Any]]) -> None:
        _step(flows, UPLOAD, 2)["expect"]["size"] = {"larger_than": "upload.sent"}

    observation, _ = run_journey(UPLOAD, larger_than_upload)
    assert not observation.ok
    assert "expected a body larger than what 'upload' sent (4,934 bytes), got" in observation.reason


@pytest.mark.parametrize(
    ("check", "message"),
    [
        ({"json_absent": ["status"]}, 'expected no status, got status = "done"'),
        ({"json_absent": ["$.bytes_in"]}, "expected no $.bytes_in, got $.bytes_in = 4934"),
        ({"body_excludes": ['"done"']}, "expected the body not to contain '\"done\"'"),
    ],
    ids=["json field absent", "JSONPath absent", "body must not contain"],
)
def test_negative_body_checks(run_journey, check: dict[str, Any], message: str) -> None:
    def forbid(flows: list[dict[str, Any]]) -> None:
        _step(flows, UPLOAD, 1)["expect"].update(check)

    observation, _ = run_journey(UPLOAD, forbid)
    assert not observation.ok
    assert "step 2/3 'wait for the worker' failed" in observation.reason
    assert message in observation.reason


def test_captured_secrets_are_masked(run_journey) -> None:
    def capture_a_token(flows: list[dict[str, Any]]) -> None:
        upload = _step(flows, UPLOAD, 0)
        upload["capture"]["api_token"] = {"json": "id"}
        upload["capture"]["receipt"] = {"json": "id", "secret": True}
        _step(flows, UPLOAD, 1)["expect"]["json"]["id"] = "${api_token}x"

    observation, _ = run_journey(UPLOAD, capture_a_token)
    assert not observation.ok
    reason = observation.reason
    assert "api_token=***" in reason and "receipt=***" in reason
    assert 'expected id = "***x", got "***"' in reason
    # the same value captured under a name that is no secret is masked too: it is the secret
    assert "upload_id=***" in reason
    assert observation.figures["2 wait for the worker: request"].value.endswith("/api/uploads/***")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers: a hung service."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_a_hung_request_shows_how_long_it_hung(silent_server: str, tmp_path: Path) -> None:
    flow = FlowSpec.model_validate({
        "name": "hung", "service": "api",
        "steps": [{"name": "ask", "request": {"path": "/slow", "timeout": "400ms"}}],
    })  # fmt: skip
    service = HttpService.model_validate({"kind": "http", "url": silent_server})
    observation = run_flow(flow, {"api": service}, FlowContext(tmp_path))
    assert not observation.ok
    reason = observation.reason
    assert "step 1/1 'ask' failed: GET http://127.0.0.1:" in reason
    assert "no answer within 0.4s (waited 0.4" in reason and "timeout 0.4 s)" in reason
    assert 0.35 < observation.elapsed_s < 1.5


def test_a_missing_upload_file_fails_the_step_naming_it(run_journey) -> None:
    def lose_the_file(flows: list[dict[str, Any]]) -> None:
        _step(flows, UPLOAD, 0)["request"]["files"]["file"]["path"] = "journeys/gone.txt"

    observation, _ = run_journey(UPLOAD, lose_the_file)
    assert not observation.ok
    assert "step 1/3 'upload' failed: POST https://" in observation.reason
    assert "cannot read " in observation.reason and "journeys/gone.txt: No such file" in (
        observation.reason
    )


def test_a_capture_that_finds_nothing_says_where_it_looked(run_journey) -> None:
    def capture_a_missing_field(flows: list[dict[str, Any]]) -> None:
        _step(flows, UPLOAD, 0)["capture"]["receipt"] = {"json": "$.receipt.number"}

    observation, _ = run_journey(UPLOAD, capture_a_missing_field)
    assert not observation.ok
    assert "capture receipt: $.receipt.number: no such field in the body" in observation.reason
