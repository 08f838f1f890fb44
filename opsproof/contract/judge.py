"""The probe's checks, each a separately named failure. Schemathesis judges what it judges well
(server errors, the documented statuses, content types and response schemas); the response
time comes from the bounded client's own clock, and access control from a request sent
without credentials.

Each check runs on its own so that every failure keeps the name of the check that found it;
the failures are Schemathesis's own exception types, one per check, which is how Hypothesis
tells distinct bugs apart and shrinks each to its own minimal example.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup, ResponseTimeExceeded, Severity
from schemathesis.openapi.checks import AuthScenario, IgnoredAuth
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opsproof.contract.wire import ApiCase, NoAnswer, Sent

LIBRARY_CHECKS: dict[str, Callable[..., Any]] = {
    "server_error": not_a_server_error,
    "status_code": status_code_conformance,
    "content_type": content_type_conformance,
    "response_schema": response_schema_conformance,
}
"""Our check names → Schemathesis's check functions."""
REFUSALS = (401, 403)
"""What an operation that declares security answers a request without credentials."""


@dataclass(frozen=True)
class Violation:
    check: str
    """The check's name in the config and the evidence: ``server_error``, ``auth_required``…"""
    failure: Failure


def judge_answer(
    case: ApiCase, sent: Sent, checks: Sequence[str], response_time: float
) -> list[Violation]:
    """Every enabled check that the answer to ``case`` fails."""
    found: list[Violation] = []
    for name in checks:
        function = LIBRARY_CHECKS.get(name)
        if function is None:
            continue
        try:
            case.validate_response(sent.response, checks=[function])
        except FailureGroup as group:
            found += [Violation(name, failure) for failure in group.exceptions]
    latency = sent.answer.latency_s
    if "response_time" in checks and latency > response_time:
        message = f"answered in {latency:.3f}s > {response_time:g}s (response_time)"
        failure = ResponseTimeExceeded(
            operation=case.operation.label, elapsed=latency, deadline=response_time,
            message=message,
        )  # fmt: skip
        found.append(Violation("response_time", failure))
    return found


def judge_unanswered(case: ApiCase, unanswered: NoAnswer, checks: Sequence[str]) -> list[Violation]:
    """No complete answer: past the deadline a response-time failure, else a server error."""
    label = case.operation.label
    if unanswered.timed_out and "response_time" in checks:
        failure: Failure = ResponseTimeExceeded(
            operation=label, elapsed=0.0, deadline=0.0, message=f"no answer: {unanswered.why}"
        )
        return [Violation("response_time", failure)]
    if not unanswered.timed_out and "server_error" in checks:
        failure = Failure(
            operation=label, title="No complete answer", message=unanswered.why,
            severity=Severity.CRITICAL,
        )  # fmt: skip
        return [Violation("server_error", failure)]
    return []


def judge_access(case: ApiCase, sent: Sent) -> list[Violation]:
    """An operation that declares security, asked without credentials, refuses (401/403)."""
    status = sent.answer.status
    if status in REFUSALS:
        return []
    message = f"answered {status} without credentials; expected 401 or 403"
    failure = IgnoredAuth(
        operation=case.operation.label, message=message, scenario=AuthScenario.NO_AUTH
    )
    return [Violation("auth_required", failure)]
