"""Capturing a value from an answer: a JSON field, a header, or a regex on the body's text."""

import json
import re

from opsproof.config.models import CaptureSpec
from opsproof.journeys.fields import MISSING, BadPath, field, parsed_json
from opsproof.probes._fetch import Answer


class CaptureFailed(Exception):
    """The answer has no value where the capture looks; the message says where it looked."""


def captured(answer: Answer, spec: CaptureSpec) -> str:
    """The value as text (a JSON string as is, any other JSON value as JSON)."""
    if spec.header is not None:
        value = answer.headers.get(spec.header)
        if value is None:
            raise CaptureFailed(f"no {spec.header} header in the answer")
        return str(value)
    if spec.regex is not None:
        text = answer.body.decode("utf-8", "replace")
        match = re.search(spec.regex, text)
        if match is None:
            raise CaptureFailed(f"the body does not match /{spec.regex}/")
        return match[1] if match.re.groups else match[0]
    path = str(spec.json_path)
    document = parsed_json(answer.body)
    if document is MISSING:
        raise CaptureFailed(f"{path}: the body is not JSON")
    try:
        value = field(document, path)
    except BadPath as exc:
        raise CaptureFailed(str(exc)) from None
    if value is MISSING:
        raise CaptureFailed(f"{path}: no such field in the body")
    return value if isinstance(value, str) else json.dumps(value)
