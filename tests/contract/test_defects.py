"""Each planted defect is found and named, shrunk to a minimal example, with a curl line that
reproduces it; the healthy API passes every check, and nothing that may change state is called."""

import shlex
import subprocess
from pathlib import Path

import pytest

from tests.contract.conftest import probe_service
from tests.contract.defect_app import DEFECTS, SLOW_S, TOKEN, serving

CONTRACT = {
    "examples": 50,
    "budget": "150s",  # the slow item shrinks at 1.2 s a try
    "rate": 500,
    "response_time": "1s",  # healthy answers take ms (0.64 s seen at load 8), the slow 1.2 s
    "auth": {"headers": {"Authorization": f"Bearer {TOKEN}"}},
}
ITEM = "app GET /items/{item_id}"
REPORT = "app GET /private/report without credentials"
FOUND = {
    "server_error": (ITEM, "server_error", "answered 500", "/items/501", "500"),
    "wrong_type": (ITEM, "response_schema", "answered 200", "/items/501", "200"),
    "undocumented_status": (ITEM, "status_code", "answered 418", "/items/501", "418"),
    "slow": (ITEM, "response_time", "answered 200", "/items/501", "200"),
    "open_secret": (REPORT, "auth_required", "answered 200", "/private/report", "200"),
}
"""Defect → the item that fails, the check named, the status, the minimal request's path, and
the status its curl line gets."""


def test_the_healthy_api_passes_and_nothing_that_changes_state_is_called(tmp_path: Path) -> None:
    with serving() as (url, calls):
        run = probe_service(url, CONTRACT, tmp_path, secrets=frozenset({TOKEN}))
    failed = {
        item: o.observation.reason for item, o in run.outcomes.items() if not o.observation.ok
    }
    assert failed == {}
    assert set(run.outcomes) == {
        ITEM, "app GET /search", "app GET /private/report", REPORT,
    }  # fmt: skip
    assert set(run.held_back) == {"app POST /items", "app POST /login"}
    assert "allow_methods: [POST] opts in" in run.held_back["app POST /items"]
    assert [call for call in calls if not call.startswith("GET ")] == []
    assert sum(call.startswith("GET /items/") for call in calls) > 20  # it did explore
    passed = run.reason(ITEM)
    assert (
        "server_error, response_schema, status_code, content_type, response_time passed" in passed
    )
    assert "422 ×" in passed  # invalid inputs too: FastAPI refused them as documented
    assert "refused" not in run.reason("app GET /private/report")
    assert "401 ×" in run.reason(REPORT)


@pytest.mark.parametrize("defect", DEFECTS)
def test_a_planted_defect_is_found_named_shrunk_and_reproducible(
    defect: str, tmp_path: Path
) -> None:
    item, check, status, path, replayed = FOUND[defect]
    with serving(defect) as (url, _):
        run = probe_service(url, CONTRACT, tmp_path, secrets=frozenset({TOKEN}))
        observation = run.outcomes[item].observation
        assert not observation.ok
        reason = observation.reason
        assert f"- {check}: " in reason, reason
        finding = reason.partition(f"- {check}: ")[2]
        assert f"{status}; minimal example: " in finding, reason
        curl = finding.partition("reproduce: ")[2].splitlines()[0]
        assert curl.startswith("curl -X GET ") and shlex.split(curl)[-1] == f"{url}{path}", curl
        assert TOKEN not in reason  # the token is masked, the curl line shows Authorization: ***
        if item == ITEM:
            assert "'item_id': 501" in finding  # shrunk: the smallest id over 500
        written = [*shlex.split(curl), "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}"]
        done = subprocess.run(written, capture_output=True, text=True, timeout=10, check=True)
        code, seconds = done.stdout.split()
        assert code == replayed
        if defect == "slow":
            assert float(seconds) >= SLOW_S
    # one defect, one failing item
    others = {
        i: o.observation.reason
        for i, o in run.outcomes.items()
        if i != item and not o.observation.ok
    }
    assert others == {}
    assert "replay with --api-seed 7" in reason


def test_allow_methods_opts_in_to_a_method_that_may_change_state(tmp_path: Path) -> None:
    contract = {
        "examples": 10,
        "rate": 500,
        "allow_methods": ["POST"],
        "include": {"paths": ["/items"]},
    }
    with serving() as (url, calls):
        run = probe_service(url, contract, tmp_path)
    assert list(run.outcomes) == ["app POST /items"]
    assert run.outcomes["app POST /items"].observation.ok, run.reason("app POST /items")
    assert calls.count("POST /items") >= 5
