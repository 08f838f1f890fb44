"""Capturing a value from an answer: a JSON field, a header, or a regex on the body's text."""

import json
import re
from dataclasses import dataclass

from opsproof.config.flows import CaptureSpec
from opsproof.journeys.fields import MISSING, field, parsed_json
from opsproof.probes.exchange import Answer


@dataclass(frozen=True)
class Missed:
    """The answer has no value where the capture looks; ``why`` says where it looked."""

    why: str


def captured(answer: Answer, spec: CaptureSpec) -> str | Missed:
    """The value as text (a JSON string as is, any other JSON value as JSON), or why not."""
    if spec.header is not None:
        value = answer.headers.get(spec.header)
        return Missed(f"no {spec.header} header in the answer") if value is None else str(value)
    if spec.regex is not None:
        match = re.search(spec.regex, answer.body.decode("utf-8", "replace"))
        if match is None:
            return Missed(f"the body does not match /{spec.regex}/")
        return match[1] if match.re.groups else match[0]
    path = str(spec.json_path)
    document = parsed_json(answer.body)
    if document is MISSING:
        return Missed(f"{path}: the body is not JSON")
    value = field(document, path)
    if value is MISSING:
        return Missed(f"{path}: no such field in the body")
    return value if isinstance(value, str) else json.dumps(value)
