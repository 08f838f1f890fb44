"""Judging a flow step's answer: every expectation, each failed one named expected vs actual."""

import json
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import JsonValue

from opsproof.config.flows import FlowExpectSpec, SizeSpec
from opsproof.config.values import status_matches, status_text
from opsproof.journeys.fields import MISSING, field, parsed_json
from opsproof.journeys.variables import Variables
from opsproof.probes.exchange import Answer, has_signature, quoted, same, sniff


@dataclass(frozen=True)
class Exchanged:
    """The bytes a finished step sent (its body or files) and received (its answer's body)."""

    sent: int
    received: int


def failures(
    answer: Answer,
    expect: FlowExpectSpec,
    variables: Variables,
    earlier: Mapping[str, Exchanged],
) -> list[str]:
    """One ``expected X, got Y`` per expectation the answer misses; empty when it meets all."""
    found = []
    if not status_matches(expect.status, answer.status):
        found.append(f"expected status {status_text(expect.status)}, got {answer.status} "
                     f"{answer.excerpt()}")  # fmt: skip
    if expect.content_type is not None:
        wanted = expect.content_type.partition(";")[0].strip().lower()
        if answer.media_type != wanted:
            found.append(f"expected content type {wanted}, got {answer.media_type or 'none'}")
    if expect.json_fields or expect.json_absent:
        fields = {path: variables.render_json(value) for path, value in expect.json_fields.items()}
        found += _json_failures(answer, fields, expect)
    if expect.signature is not None and not has_signature(answer.body, expect.signature):
        found.append(f"expected a {expect.signature} body, got {sniff(answer.body)}")
    if expect.body_contains is not None:
        text = variables.render(expect.body_contains)
        if text.encode() not in answer.body:
            found.append(f"expected the body to contain {text!r}, got {answer.excerpt()}")
    for text in map(variables.render, expect.body_excludes):
        if text.encode() in answer.body:
            found.append(f"expected the body not to contain {text!r}, got {answer.excerpt()}")
    if expect.size is not None:
        found += _size_failures(len(answer.body), expect.size, earlier)
    if expect.max_latency is not None and answer.latency_s > expect.max_latency:
        found.append(f"expected latency <= {expect.max_latency * 1000:g} ms, "
                     f"took {answer.latency_s * 1000:.0f} ms")  # fmt: skip
    return found


def _json_failures(
    answer: Answer, expected: Mapping[str, JsonValue], expect: FlowExpectSpec
) -> list[str]:
    document = parsed_json(answer.body)
    if document is MISSING:
        return [f"expected a JSON body, got {answer.excerpt()}"]
    found = []
    for path, want in expected.items():
        got = field(document, path)
        if got is MISSING:
            found.append(f"expected {path} = {json.dumps(want)}, got nothing (no such field)")
        elif not same(want, got):
            found.append(f"expected {path} = {json.dumps(want)}, got {quoted(got)}")
    for path in expect.json_absent:
        got = field(document, path)
        if got is not MISSING:
            found.append(f"expected no {path}, got {path} = {quoted(got)}")
    return found


def _size_failures(size: int, bounds: SizeSpec, earlier: Mapping[str, Exchanged]) -> list[str]:
    found = []
    got = f"got {size:,} bytes"
    if bounds.min is not None and size < bounds.min:
        found.append(f"expected a body of at least {int(bounds.min):,} bytes, {got}")
    if bounds.max is not None and size > bounds.max:
        found.append(f"expected a body of at most {int(bounds.max):,} bytes, {got}")
    for relation, word in ((bounds.smaller_than, "smaller"), (bounds.larger_than, "larger")):
        if relation is None:
            continue
        step, _, side = relation.rpartition(".")
        other: int = getattr(earlier[step], side)
        if (size >= other) if word == "smaller" else (size <= other):
            found.append(
                f"expected a body {word} than what {step!r} {side} ({other:,} bytes), {got}"
            )
    return found
