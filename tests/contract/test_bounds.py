"""Bounded: a hostile service cannot hang or swell the probe (every request goes through the
probes' bounded client), the probe stops at its budget, and a document it cannot use fails
one item that says why."""

import json
from pathlib import Path

from tests.contract.conftest import probe_service
from tests.probes.hostile import HostileServer

HOSTILE_PATHS = ("trickle-body", "huge", "gzip-bomb", "header-flood", "json-deep")
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "hostile", "version": "1"},
    "paths": {
        f"/{path}": {"get": {"responses": {"200": {
            "description": "ok", "content": {"application/json": {"schema": {"type": "object"}}},
        }}}}
        for path in HOSTILE_PATHS
    },
}  # fmt: skip


def test_a_hostile_service_cannot_hang_or_swell_the_probe(tmp_path: Path) -> None:
    document = tmp_path / "hostile.json"
    document.write_text(json.dumps(DOCUMENT))
    server = HostileServer()
    try:
        run = probe_service(
            server.url, {"openapi_file": str(document), "examples": 5, "budget": "6s"}, tmp_path
        )
    finally:
        server.stop()
    assert run.items_s < 7
    reasons = {item: o.observation.reason for item, o in run.outcomes.items()}
    assert set(reasons) == {f"app GET /{path}" for path in HOSTILE_PATHS}
    assert all(not o.observation.ok for o in run.outcomes.values()), reasons
    assert "body: > 4 MiB allowed (max_body)" in reasons["app GET /huge"]
    assert "gzip-decoded" in reasons["app GET /gzip-bomb"]
    assert "headers: 10,000 > 100 allowed" in reasons["app GET /header-flood"]
    assert "- response_time: " in reasons["app GET /trickle-body"]


def test_the_probe_stops_at_its_budget(tmp_path: Path) -> None:
    document = tmp_path / "slow.json"
    paths = {"/trickle-body": DOCUMENT["paths"]["/trickle-body"]}  # type: ignore[index]
    document.write_text(json.dumps({**DOCUMENT, "paths": paths}))
    contract = {"openapi_file": str(document), "examples": 1000, "budget": "2s", "rate": 1000}
    server = HostileServer()
    try:
        slow = probe_service(server.url, contract, tmp_path, service={"timeout": "500ms"})
        cut = probe_service(server.url, contract, tmp_path)  # the service's timeout is 3s
    finally:
        server.stop()
    assert slow.items_s < 2.5 and cut.items_s < 2.5
    # each request waited its whole deadline: the answer never came
    assert "- response_time: " in slow.reason("app GET /trickle-body")
    assert "body not complete within 0.5s" in slow.reason("app GET /trickle-body")
    # a request the budget's end cut short says nothing about the service: inconclusive
    outcome = cut.outcomes["app GET /trickle-body"]
    assert outcome.inconclusive
    assert "nothing judged: the budget was spent first" in outcome.observation.reason


def test_an_unusable_document_fails_one_item_saying_why(tmp_path: Path) -> None:
    server = HostileServer()
    try:
        huge = probe_service(server.url, {"openapi": "/huge"}, tmp_path)
        missing = probe_service(server.url, {}, tmp_path)
    finally:
        server.stop()
    assert list(huge.outcomes) == ["app openapi"]
    assert "OpenAPI document: " in huge.reason("app openapi")
    assert "body: > 4 MiB allowed (max_body)" in huge.reason("app openapi")
    assert "GET http://127.0.0.1:" in missing.reason("app openapi")
    assert "/openapi.json answered 404, not the document" in missing.reason("app openapi")
    assert "set api_contract.openapi to where the service serves it" in missing.reason(
        "app openapi"
    )
