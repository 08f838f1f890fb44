"""Credentials: a token fetched by a login step in a flow's vocabulary, sent with every request
but those that prove an operation refuses a request without credentials; masked everywhere."""

from pathlib import Path

import pytest

from opsproof.contract import wire
from tests.contract.conftest import probe_service
from tests.contract.defect_app import PASSWORD, TOKEN, serving

LOGIN = {
    "steps": [
        {
            "name": "log in",
            "request": {"method": "POST", "path": "/login",
                        "json": {"user": "sre", "password": PASSWORD}},
            "expect": {"status": 200},
            "capture": {"token": {"json": "access_token"}},
        }
    ],
    "headers": {"Authorization": "Bearer ${token}"},
}  # fmt: skip
PRIVATE = {"examples": 5, "rate": 500, "include": {"paths": ["/private/*"]}}


def test_a_token_from_a_login_step_opens_the_operation_and_is_never_shown(tmp_path: Path) -> None:
    with serving() as (url, calls):
        run = probe_service(url, {**PRIVATE, "auth": LOGIN}, tmp_path)
    assert run.outcomes["app GET /private/report"].observation.ok, run.reason(
        "app GET /private/report"
    )
    refused = run.outcomes["app GET /private/report without credentials"].observation
    assert refused.ok, refused.reason
    assert "auth_required passed for " in refused.reason and "(401 ×" in refused.reason
    assert calls.count("POST /login") == 1  # once per probe, not per request
    for outcome in run.outcomes.values():
        assert TOKEN not in outcome.observation.reason


def test_without_credentials_the_secured_operation_fails_its_own_checks(tmp_path: Path) -> None:
    with serving() as (url, _):
        run = probe_service(url, PRIVATE, tmp_path)
    reason = run.reason("app GET /private/report")
    assert "- status_code: " not in reason  # 401 is documented …
    assert "401 ×" in reason  # … and every answer says what was missing
    assert run.outcomes["app GET /private/report without credentials"].observation.ok


def test_a_failed_login_step_fails_every_item_naming_the_step(tmp_path: Path) -> None:
    wrong = {
        **LOGIN,
        "steps": [
            {
                **LOGIN["steps"][0],
                "request": {  # type: ignore[dict-item]
                    "method": "POST",
                    "path": "/login",
                    "json": {"user": "sre", "password": "nope"},
                },
            }
        ],
    }
    with serving() as (url, _):
        run = probe_service(url, {**PRIVATE, "auth": wrong}, tmp_path)
    for outcome in run.outcomes.values():
        assert not outcome.observation.ok
        assert "auth steps failed: flow 'app api_contract auth': step 1/1 'log in' failed" in (
            outcome.observation.reason
        )


def test_an_expired_token_is_fetched_again_and_the_request_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wire, "REFRESH_AFTER", 0.0)  # the app's tokens expire within seconds
    with serving("expiring") as (url, calls):
        run = probe_service(url, {**PRIVATE, "examples": 20, "auth": LOGIN}, tmp_path)
    report = run.outcomes["app GET /private/report"].observation
    assert report.ok, report.reason
    assert calls.count("POST /login") >= 3
    assert "401" not in str(report.figures["statuses"].value)
    assert TOKEN not in report.reason
