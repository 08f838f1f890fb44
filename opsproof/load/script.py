"""A config-only scenario made ready to travel: its requests (or the environment's flow) with
their upload files read and inlined, and the services they ask, as plain JSON in the plan.

Workers on other machines get the plan in a Locust message and have no file of this one, so
every upload is read here, bounded, and sent as base64. References to the environment (a
flow's name, a request's service) are checked before any traffic: ``script_problems`` names
the profile's file, line and key.
"""

import base64
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, JsonValue

from opsproof.config.flows import (
    CaptureSpec,
    FlowExpectSpec,
    FlowRequestSpec,
    FlowSpec,
    FlowStepSpec,
    PollSpec,
)
from opsproof.config.problems import Position, Problem, excerpt, listing
from opsproof.errors import ConfigError
from opsproof.load.options import Scenario, WeightedRequestSpec
from opsproof.load.target import LoadTarget

if TYPE_CHECKING:  # a Locust worker gets its script as JSON: it needs no YAML parser
    from opsproof.config.source import ParsedFile

MAX_FILE_BYTES = 4 << 20
"""An upload sent by a load scenario: every worker holds it in memory and gets it by message."""
MAX_SCRIPT_BYTES = 16 << 20
"""All of one scenario's uploads together."""
RUN_SERVICE = ""
"""The key of the run's own service (``--load-service``) among a script's targets."""


class ScriptFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    field: str
    filename: str
    content_type: str
    data: str
    """base64."""


class ScriptStep(BaseModel):
    """One request as a worker sends it: a weighted request, or a flow's step."""

    model_config = ConfigDict(frozen=True)

    name: str
    service: str = RUN_SERVICE
    weight: int = 1
    method: str = "GET"
    path: str
    headers: dict[str, str] = {}
    json_body: JsonValue = None
    body: str | None = None
    """base64 of a raw body (``body`` or ``body_file``)."""
    files: list[ScriptFile] = []
    form: dict[str, str] = {}
    timeout: float | None = None
    expect: FlowExpectSpec = FlowExpectSpec()
    capture: dict[str, CaptureSpec] = {}
    poll: PollSpec | None = None


class Script(BaseModel):
    """What one iteration does: one weighted request (``flow`` None) or the flow's steps."""

    model_config = ConfigDict(frozen=True)

    flow: str | None = None
    steps: list[ScriptStep]
    headers: dict[str, str] = {}
    """The flow's headers, sent once their variables are captured."""
    targets: dict[str, LoadTarget]
    sleep: float = 0.0


@dataclass(frozen=True)
class ScriptSources:
    """What the environment lends config-only scenarios: its http services (the run's own
    under ``RUN_SERVICE``), its flows, and where their files are."""

    services: dict[str, LoadTarget] = field(default_factory=dict)
    flows: dict[str, FlowSpec] = field(default_factory=dict)
    flows_dir: Path = Path()
    """The config file's directory: a flow's uploads are relative to it."""
    run_service: str = ""
    """The name of the run's service, when it has one: a request naming it needs no target."""


def compile_script(
    scenario: Scenario, target: LoadTarget, sources: ScriptSources, profile_dir: Path
) -> Script:
    """The scenario's requests or flow with their files inlined; ConfigError names a file
    that cannot be read or is too large."""
    services = {RUN_SERVICE: target} | {
        name: sources.services[name] for name in _services_used(scenario, sources)
    }
    if scenario.flow is not None:
        flow = sources.flows[scenario.flow]
        steps = [_flow_step(step, flow, sources) for step in flow.steps]
        script = Script(
            flow=flow.name, steps=steps, headers=flow.headers, targets=services,
            sleep=scenario.sleep,
        )  # fmt: skip
    else:
        steps = [_weighted(request, sources, profile_dir) for request in scenario.requests or []]
        script = Script(steps=steps, targets=services, sleep=scenario.sleep)
    inlined = sum(len(f.data) * 3 // 4 for step in script.steps for f in step.files)
    if inlined > MAX_SCRIPT_BYTES:
        raise ConfigError(
            f"the scenario's uploads add up to {inlined:,} bytes; at most {MAX_SCRIPT_BYTES:,} "
            "travel to the workers: send smaller files"
        )
    return script


def _service_key(name: str | None, sources: ScriptSources) -> str:
    return RUN_SERVICE if name is None or name == sources.run_service else name


def _services_used(scenario: Scenario, sources: ScriptSources) -> set[str]:
    if scenario.flow is not None:
        flow = sources.flows[scenario.flow]
        named = {flow.service, *(step.service for step in flow.steps if step.service)}
    else:
        named = {r.service for r in scenario.requests or [] if r.service is not None}
    return {key for name in named if (key := _service_key(name, sources)) != RUN_SERVICE}


def _weighted(request: WeightedRequestSpec, sources: ScriptSources, base: Path) -> ScriptStep:
    return _step(
        request.name, _service_key(request.service, sources), request.request, request.expect,
        base, weight=request.weight,
    )  # fmt: skip


def _flow_step(step: FlowStepSpec, flow: FlowSpec, sources: ScriptSources) -> ScriptStep:
    service = _service_key(step.service or flow.service, sources)
    return _step(
        step.name, service, step.request, step.expect, sources.flows_dir,
        capture=step.capture, poll=step.poll,
    )  # fmt: skip


def _step(
    name: str,
    service: str,
    request: FlowRequestSpec,
    expect: FlowExpectSpec,
    base: Path,
    *,
    weight: int = 1,
    capture: dict[str, CaptureSpec] | None = None,
    poll: PollSpec | None = None,
) -> ScriptStep:
    body = request.body.encode() if request.body is not None else None
    if request.body_file is not None:
        body = _read(base, request.body_file)
    files = [
        ScriptFile(
            field=part_name,
            filename=part.filename or part.path.name,
            content_type=part.content_type,
            data=base64.b64encode(_read(base, part.path)).decode("ascii"),
        )
        for part_name, part in request.files.items()
    ]
    return ScriptStep(
        name=name, service=service, weight=weight, method=request.method, path=request.path,
        headers=request.headers, json_body=request.json_body,
        body=None if body is None else base64.b64encode(body).decode("ascii"),
        files=files, form=request.form, timeout=request.timeout, expect=expect,
        capture=capture or {}, poll=poll,
    )  # fmt: skip


def _read(base: Path, path: Path) -> bytes:
    full = path if path.is_absolute() else base / path
    try:
        with full.open("rb") as source:
            data = source.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(
            f"{full}: cannot read the upload ({error.strerror or error}); fix the path "
            "(relative to the directory of the file naming it)"
        ) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(
            f"{full}: an upload of a load scenario may have at most {MAX_FILE_BYTES:,} bytes "
            "(every worker holds it): send a smaller file"
        )
    return data


def upload_problems(
    scenarios: dict[str, Scenario], base_dir: Path, parsed: "ParsedFile"
) -> Iterator[Problem]:
    """Each upload of a scenario's requests that cannot be read or is too large, located at
    its ``path`` in the profile (flows' uploads are the config file's, checked by the gate)."""
    for name, scenario in scenarios.items():
        base = _written_at(name, parsed)
        for index, request in enumerate(scenario.requests or []):
            at = (*base, "requests", index, "request")
            named = [(("body_file",), request.request.body_file)] + [
                (("files", part, "path"), spec.path) for part, spec in request.request.files.items()
            ]
            for keys, path in named:
                if path is None:
                    continue
                try:
                    _read(base_dir, path)
                except ConfigError as error:
                    where = (*at, *keys)
                    yield Problem(parsed.locate(where), where, f"{error}")


def _written_at(name: str, parsed: "ParsedFile | None") -> tuple[str | int, ...]:
    """Where a scenario's keys are: under ``scenarios``, or at the top for the shortcut."""
    base: tuple[str | int, ...] = ("scenarios", name)
    return base if parsed is None or base in parsed.values else ()


def script_problems(
    scenarios: dict[str, Scenario], sources: ScriptSources, parsed: "ParsedFile | None"
) -> Iterator[Problem]:
    """Each flow or service a scenario names that the environment does not have, located in
    the profile (``parsed``; a profile from a dict is located at its first line)."""

    def at(path: tuple[str | int, ...]) -> Position:
        return Position(1, 1) if parsed is None else parsed.locate(path)

    services = sorted(set(sources.services) | ({sources.run_service} - {""}))
    for name, scenario in scenarios.items():
        base = _written_at(name, parsed)
        if scenario.flow is not None and scenario.flow not in sources.flows:
            path = (*base, "flow")
            message = (
                f"{excerpt(scenario.flow)} is not a flow of this environment (flows: "
                f"{listing(sources.flows) or 'none'}); name one of them, or write `requests`"
            )
            yield Problem(at(path), path, message)
        for index, request in enumerate(scenario.requests or []):
            if request.service is not None and request.service not in services:
                path = (*base, "requests", index, "service")
                message = (
                    f"{excerpt(request.service)} is not an http service of this environment "
                    f"({listing(services) or 'none'}); name one, or leave service out for the "
                    "run's own"
                )
                yield Problem(at(path), path, message)
