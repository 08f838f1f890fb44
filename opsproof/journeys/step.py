"""One flow step: build the request from the step and the variables, send it (polling if
asked), judge the answer, capture values, save the body if asked."""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic import JsonValue

from opsproof.config.flows import FlowRequestSpec, FlowStepSpec
from opsproof.config.models import HttpService
from opsproof.config.values import status_matches, status_text
from opsproof.errors import FetchError
from opsproof.journeys import expect
from opsproof.journeys.capture import Missed, captured
from opsproof.journeys.expect import Exchanged
from opsproof.journeys.poll import poll
from opsproof.journeys.variables import Variables
from opsproof.probes.exchange import Answer, fetch
from opsproof.probes.http import endpoint_url
from opsproof.probes.result import Figure

_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class StepContext:
    """Where a step's files are: uploads relative to ``base_dir`` (the config file's
    directory), saved bodies under ``save_dir`` (the run's, None when there is none)."""

    base_dir: Path
    save_dir: Path | None


@dataclass(frozen=True)
class StepResult:
    """The step's verdict, its evidence line, its figures and the bytes it exchanged."""

    ok: bool
    target: str
    line: str
    figures: dict[str, Figure] = field(default_factory=dict)
    exchanged: Exchanged = field(default_factory=lambda: Exchanged(0, 0))


@dataclass(frozen=True)
class _Payload:
    """What ``fetch`` sends as the body, and its size as the step's ``sent`` bytes."""

    json: JsonValue = None
    content: bytes | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None
    size: int = 0


def _payload(request: FlowRequestSpec, variables: Variables, base_dir: Path) -> _Payload:
    """The body; files are read here, so a missing one fails the step, naming it."""
    if request.json_body is not None:
        rendered = variables.render_json(request.json_body)
        return _Payload(json=rendered, size=len(json.dumps(rendered).encode()))
    if request.body is not None:
        content = variables.render(request.body).encode()
        return _Payload(content=content, size=len(content))
    if request.body_file is not None:
        content = _read(base_dir, request.body_file)
        return _Payload(content=content, size=len(content))
    form = {name: variables.render(value) for name, value in request.form.items()} or None
    files = {
        name: (part.filename or part.path.name, _read(base_dir, part.path), part.content_type)
        for name, part in request.files.items()
    } or None
    size = sum(len(part[1]) for part in (files or {}).values())
    return _Payload(files=files, data=form, size=size)


def _read(base_dir: Path, path: Path) -> bytes:
    """The file's bytes; an OSError names the file (``filename``) and why (``strerror``)."""
    return (path if path.is_absolute() else base_dir / path).read_bytes()


def run_step(
    step: FlowStepSpec,
    service: HttpService,
    client: httpx.Client,
    variables: Variables,
    earlier: Mapping[str, Exchanged],
    context: StepContext,
    flow_headers: Mapping[str, str] | None = None,
) -> StepResult:
    """Send, judge, capture: a failed result's line says what failed, expected vs actual.
    ``flow_headers`` are sent too once their variables are captured; the step's own win."""
    request = step.request
    path = variables.render(request.path)
    url = endpoint_url(service, path)
    target = f"{request.method} {url}"
    if not path.startswith("/"):
        return StepResult(False, target, f"the path {path!r} does not start with '/'")
    timeout = request.timeout or service.timeout
    own = {name.lower() for name in request.headers}
    shared = {
        name: value
        for name, value in (flow_headers or {}).items()
        if name.lower() not in own and variables.ready(value)
    }
    headers = {name: variables.render(value) for name, value in (shared | request.headers).items()}
    # a step that expects a redirect judges the redirect itself (and may capture its Location)
    follow = not any(status_matches(step.expect.status, code) for code in _REDIRECTS)
    try:
        payload = _payload(request, variables, context.base_dir)
    except OSError as exc:
        return StepResult(False, target, f"cannot read {exc.filename}: {exc.strerror or exc}")

    def send() -> Answer:
        began = time.monotonic()
        try:
            return fetch(
                client, request.method, url, timeout,
                headers=headers, json=payload.json, content=payload.content,
                files=payload.files, data=payload.data, follow_redirects=follow,
            )  # fmt: skip
        except FetchError as exc:
            # how long the request really hung, up to its timeout
            waited = time.monotonic() - began
            raise FetchError(f"{exc} (waited {waited:.2f} s, timeout {timeout:g} s)") from exc

    def judged(answer: Answer) -> list[str]:
        return expect.failures(answer, step.expect, variables, earlier)

    figures: dict[str, Figure] = {}
    try:
        if step.poll is None:
            answer = send()
        else:
            polled = poll(send, step.poll, lambda answer: not judged(answer))
            answer = polled.answer
            figures["poll_s"] = Figure(round(polled.elapsed_s, 3), "s", f"<= {step.poll.timeout:g}")
            figures["polls"] = Figure(polled.requests)
            if polled.failure is not None:
                return StepResult(False, target, polled.failure, figures)
    except FetchError as exc:
        return StepResult(False, target, str(exc), figures)
    latency_ms = round(answer.latency_s * 1000, 1)
    budget = None if step.expect.max_latency is None else f"<= {step.expect.max_latency * 1000:g}"
    figures["status"] = Figure(answer.status, target=status_text(step.expect.status))
    figures["latency_ms"] = Figure(latency_ms, "ms", budget)
    figures["bytes"] = Figure(len(answer.body), "B")
    exchanged = Exchanged(payload.size, len(answer.body))
    problems = judged(answer)
    if problems:
        return StepResult(False, target, "; ".join(problems), figures, exchanged)
    for name, spec in step.capture.items():
        value = captured(answer, spec)
        if isinstance(value, Missed):
            return StepResult(False, target, f"capture {name}: {value.why}", figures, exchanged)
        variables.capture(name, value, spec.secret)
    saved = _save(step, answer, context)
    done = f"{answer.status} in {latency_ms:g} ms, {len(answer.body):,} bytes"
    if "poll_s" in figures:
        polls = figures["polls"].value
        done += f", after {figures['poll_s'].value:g} s of polling ({polls} requests)"
    return StepResult(True, target, done + saved, figures, exchanged)


def _save(step: FlowStepSpec, answer: Answer, context: StepContext) -> str:
    if step.save is None:
        return ""
    if context.save_dir is None:
        return f"; not saved as {step.save}: this run writes no run directory"
    context.save_dir.mkdir(parents=True, exist_ok=True)
    path = context.save_dir / step.save
    path.write_bytes(answer.body)
    return f"; saved as {path}"
