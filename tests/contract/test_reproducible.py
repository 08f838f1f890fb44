"""A run is reproducible: the same seed sends the same requests, and a failure found once is
tried first the next time (Hypothesis's example database under the state directory)."""

from pathlib import Path

from tests.contract.conftest import probe_service
from tests.contract.defect_app import serving

SEARCH = {"examples": 15, "rate": 500, "include": {"paths": ["/search"]}}
ITEMS = {"examples": 60, "rate": 500, "include": {"paths": ["/items/*"], "methods": ["GET"]}}


def _searches(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith("GET /search")]


def test_the_same_seed_sends_the_same_requests_and_another_does_not(tmp_path: Path) -> None:
    with serving() as (url, calls):
        probe_service(url, SEARCH, tmp_path / "first", seed=99)
        first = _searches(calls)
        calls.clear()
        probe_service(url, SEARCH, tmp_path / "again", seed=99)
        again = _searches(calls)
        calls.clear()
        probe_service(url, SEARCH, tmp_path / "other", seed=100)
        other = _searches(calls)
    assert len(first) >= 10
    assert again == first
    assert other != first


def test_a_failure_found_once_is_tried_first_next_time(tmp_path: Path) -> None:
    with serving("server_error") as (url, calls):
        found = probe_service(url, ITEMS, tmp_path, seed=1)
        assert "- server_error: " in found.reason("app GET /items/{item_id}")
        calls.clear()
        # one example, another seed: only the database can bring the failure back
        again = probe_service(url, {**ITEMS, "examples": 1}, tmp_path, seed=2)
    assert "- server_error: " in again.reason("app GET /items/{item_id}")
    items = [call for call in calls if call.startswith("GET /items/")]
    assert items[0] == "GET /items/501"
