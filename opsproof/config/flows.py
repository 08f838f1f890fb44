"""A flow's models: ordered requests, what each answer must be, captures and polling. Apart
from ``models`` because a Locust worker running a config-only scenario needs these and nothing
else: the whole environment model costs each worker process ~0.3 CPU-s to import."""

import re
from typing import Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from opsproof.config.durations import PositiveDuration
from opsproof.config.problems import excerpt
from opsproof.config.strict import StrictModel
from opsproof.config.values import (
    Bytes,
    ExpectedStatus,
    FilePath,
    FlowPath,
    Headers,
    HeaderValue,
    JsonPath,
)

Signature = Literal["png", "jpeg", "gif", "pdf", "gzip", "zip"]
VARIABLE_NAME = r"[A-Za-z_]\w*"
"""What a captured variable may be called: it is written ``${name}`` in later steps."""
_STEP_VALUE = r"(?P<step>.+)\.(?P<side>sent|received)"


class FilePartSpec(StrictModel):
    """One file of a multipart upload, read from disk when the step runs."""

    path: FilePath = Field(description="the file sent; relative to this config file's directory")
    content_type: HeaderValue = Field(
        default="application/octet-stream", description="the part's Content-Type"
    )
    filename: HeaderValue | None = Field(
        default=None, description="the name sent; default: the file's"
    )


class FlowRequestSpec(StrictModel):
    """A flow step's request: a smoke request, plus uploads and its own deadline."""

    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    path: FlowPath = Field(description="appended to the service's url; may use ${variables}")
    headers: Headers = Field(
        default_factory=dict, description="sent with the service's headers; may use ${variables}"
    )
    json_body: JsonValue = Field(default=None, alias="json", description="a body sent as JSON")
    body: str | None = Field(default=None, description="a body sent as text")
    body_file: FilePath | None = Field(
        default=None, description="a file sent as the raw body (relative to this file's directory)"
    )
    files: dict[str, FilePartSpec] = Field(
        default_factory=dict, description="multipart form field: the file sent in it"
    )
    form: dict[str, str] = Field(
        default_factory=dict, description="multipart (with files) or urlencoded form fields"
    )
    timeout: PositiveDuration | None = Field(
        default=None,
        description="one deadline from connect to the body's last byte; default: the "
        "service's timeout (3s unless it says)",
    )

    @model_validator(mode="after")
    def _one_body(self) -> "FlowRequestSpec":
        bodies = [
            key
            for key, given in (
                ("json", self.json_body is not None),
                ("body", self.body is not None),
                ("body_file", self.body_file is not None),
                ("files/form", bool(self.files or self.form)),
            )
            if given
        ]
        if len(bodies) > 1:
            raise ValueError(f"one body per request: keep one of {', '.join(bodies)}")
        return self


class SizeSpec(StrictModel):
    """Bounds on the answer's body size, fixed or relative to an earlier step's bytes."""

    min: Bytes | None = Field(default=None, description="at least this many bytes (e.g. 1KiB)")
    max: Bytes | None = Field(default=None, description="at most this many bytes (e.g. 5MiB)")
    smaller_than: str | None = Field(
        default=None,
        description="STEP.sent or STEP.received: fewer bytes than an earlier step sent "
        "(its upload) or received",
    )
    larger_than: str | None = Field(
        default=None, description="STEP.sent or STEP.received: more bytes"
    )

    @field_validator("smaller_than", "larger_than")
    @classmethod
    def _step_value(cls, relation: str | None) -> str | None:
        if relation is not None and not re.fullmatch(_STEP_VALUE, relation):
            raise ValueError(
                "write STEP.sent (the bytes an earlier step uploaded) or STEP.received (the "
                "bytes it downloaded), e.g. upload.sent"
            )
        return relation


class FlowExpectSpec(StrictModel):
    """What a flow step's answer must be; every expectation is judged and each failed one
    named. Values may use ${variables} captured by earlier steps."""

    status: ExpectedStatus = Field(
        default=(200,), description="a status (200), a list ([200, 201]) or a class (2xx)"
    )
    content_type: str | None = Field(default=None, description="media type, parameters ignored")
    json_fields: dict[JsonPath, JsonValue] = Field(
        default_factory=dict,
        alias="json",
        description="dotted paths (or JSONPath, $.a[0]) and their expected values",
    )
    json_absent: list[JsonPath] = Field(
        default_factory=list, description="dotted paths (or JSONPath) that must not be there"
    )
    signature: Signature | None = Field(
        default=None, description="binary format the body must have"
    )
    body_contains: str | None = Field(default=None, description="text the body must contain")
    body_excludes: list[str] = Field(
        default_factory=list, description="texts the body must not contain (a stack trace, ...)"
    )
    size: SizeSpec | None = Field(default=None, description="bounds on the body's size")
    max_latency: PositiveDuration | None = Field(
        default=None, description="latency budget for this request (each poll's)"
    )


class CaptureSpec(StrictModel):
    """Where a variable's value comes from: a JSON field, a header, or a regex on the body."""

    json_path: JsonPath | None = Field(
        default=None,
        alias="json",
        description="dotted path (items.0.id) or JSONPath ($.items[0].id)",
    )
    header: str | None = Field(default=None, description="a response header's name")
    regex: str | None = Field(
        default=None, description="on the body's text: its first group, or the whole match"
    )
    secret: bool = Field(
        default=False,
        description="mask the value in every report (names like token or key are masked anyway)",
    )

    @model_validator(mode="after")
    def _one_source(self) -> "CaptureSpec":
        given = [k for k in ("json_path", "header", "regex") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("capture from exactly one of json: PATH, header: NAME, regex: PATTERN")
        return self

    @field_validator("regex")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return pattern


class PollSpec(StrictModel):
    """Repeat the request until a condition holds: a JSON field reaching a terminal state, or
    (without ``json``) the whole ``expect``. The time to completion is a figure."""

    json_path: JsonPath | None = Field(
        default=None, alias="json", description="the field watched (dotted path or JSONPath)"
    )
    until: list[JsonValue] = Field(
        default_factory=list, description="terminal values that end polling (then expect judges)"
    )
    fail_on: list[JsonValue] = Field(
        default_factory=list, description="values that fail the step at once"
    )
    interval: PositiveDuration = Field(default=0.5, description="pause between requests")
    timeout: PositiveDuration = Field(default=30.0, description="give up after this long")

    @model_validator(mode="after")
    def _states_with_a_field(self) -> "PollSpec":
        if self.json_path is None and (self.until or self.fail_on):
            raise ValueError("until and fail_on name values of a field: add json: PATH")
        if self.json_path is not None and not self.until:
            raise ValueError("name the terminal values of the field: until: [done, ...]")
        return self


class FlowStepSpec(StrictModel):
    """One request of a flow and what its answer must be; its own line in the evidence."""

    name: str = Field(description="unique in the flow; named in every failure")
    service: str | None = Field(default=None, description="an http service; default: the flow's")
    request: FlowRequestSpec
    expect: FlowExpectSpec = Field(default_factory=FlowExpectSpec)
    capture: dict[str, CaptureSpec] = Field(
        default_factory=dict, description="variable name: where its value comes from"
    )
    poll: PollSpec | None = Field(default=None, description="repeat until a condition holds")
    save: str | None = Field(
        default=None,
        description="a file name: the body is saved as flows/FLOW/NAME under the run directory",
    )

    @field_validator("save")
    @classmethod
    def _file_name(cls, name: str | None) -> str | None:
        if name is not None and (not re.fullmatch(r"[\w.-]+", name) or name.strip(".") == ""):
            raise ValueError(
                "a file name without directories (letters, digits, _ . -), e.g. result.png"
            )
        return name

    @field_validator("capture")
    @classmethod
    def _variable_names(cls, capture: dict[str, CaptureSpec]) -> dict[str, CaptureSpec]:
        for name in capture:
            if not re.fullmatch(VARIABLE_NAME, name):
                raise ValueError(
                    f"{excerpt(name)} cannot be a variable name: use letters, digits and _"
                )
        return capture


class FlowSpec(StrictModel):
    """A user journey: ordered steps, each able to use what earlier ones captured."""

    name: str = Field(description="the test id; unique in the environment")
    service: str = Field(description="the http service its steps ask unless a step names one")
    headers: Headers = Field(
        default_factory=dict,
        description="sent with every step (a step's own win); one using a ${variable} no step "
        "has captured yet is left out until one has (the login before its token)",
    )
    steps: list[FlowStepSpec] = Field(description="at least one step, run in order")

    @field_validator("steps")
    @classmethod
    def _some_steps(cls, steps: list[FlowStepSpec]) -> list[FlowStepSpec]:
        if not steps:
            raise ValueError("a flow needs at least one step: - {name: ..., request: {path: /}}")
        return steps
