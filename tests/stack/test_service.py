"""The reference service's endpoints behave like a production service's."""

import httpx
import pytest

pytestmark = pytest.mark.stack

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DRAWING = "size 40 30\nbackground #102030\nrect 2 2 10 8 #ff0000  # red\ncircle 20 15 6 #00ff00"


def test_liveness_names_the_version(api: httpx.Client) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["version"]


def test_deep_health_reports_both_dependencies(api: httpx.Client) -> None:
    body = api.get("/health/deep").json()
    assert body["status"] == "healthy"
    for name in ("redis", "postgres"):
        assert body["dependencies"][name]["ok"] is True
        assert body["dependencies"][name]["latency_ms"] >= 0


def test_validate_accepts_a_drawing_and_lists_every_error(api: httpx.Client) -> None:
    ok = api.post("/api/validate", json={"dsl": DRAWING})
    assert ok.status_code == 200
    assert ok.json() == {"valid": True, "width": 40, "height": 30, "shapes": 2}
    bad = api.post("/api/validate", json={"dsl": "size 0 10\nrect 1 1 1 1 red\ntriangle 1"})
    assert bad.status_code == 422
    assert bad.json()["valid"] is False
    assert [e["line"] for e in bad.json()["errors"]] == [1, 2, 3]


def test_render_returns_a_png_and_caches_it(api: httpx.Client) -> None:
    dsl = DRAWING + "\n# unique to this test"
    first = api.post("/api/render", json={"dsl": dsl})
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/png"
    assert first.content.startswith(PNG_SIGNATURE)
    assert int.from_bytes(first.content[16:20]) == 40  # IHDR width
    second = api.post("/api/render", json={"dsl": dsl})
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.content == first.content


def test_invalid_drawing_is_not_rendered(api: httpx.Client) -> None:
    response = api.post("/api/render", json={"dsl": "circle 1 1 #ff0000"})
    assert response.status_code == 422
    assert "circle takes 4 arguments" in response.json()["errors"][0]["message"]


def test_submitted_job_is_completed_by_the_worker(api: httpx.Client, eventually) -> None:
    submitted = api.post("/api/jobs", json={"dsl": DRAWING})
    assert submitted.status_code == 202
    job = submitted.json()
    assert job["status"] == "queued"
    assert submitted.headers["location"] == f"/api/jobs/{job['id']}"

    def done() -> dict[str, object] | None:
        body: dict[str, object] = api.get(f"/api/jobs/{job['id']}").json()
        return body if body["status"] == "done" else None

    finished = eventually(done, 10.0, f"job {job['id']} done")
    assert isinstance(finished["png_bytes"], int) and finished["png_bytes"] > len(PNG_SIGNATURE)


def test_unknown_job_is_404(api: httpx.Client) -> None:
    assert api.get("/api/jobs/00000000-0000-4000-8000-000000000000").status_code == 404
    assert api.get("/api/jobs/not-a-uuid").status_code == 404


def test_metrics_expose_requests_dependencies_and_queue(api: httpx.Client) -> None:
    api.get("/api/jobs/00000000-0000-4000-8000-000000000000")
    text = api.get("/metrics").text
    for name in (
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "dependency_up",
        "jobs_enqueued_total",
        "queue_depth",
    ):
        assert f"\n{name}" in text, name
    # route templates, not raw paths, label the requests
    assert 'path="/api/jobs/{job_id}"' in text
    assert "00000000-0000" not in text
    assert 'dependency_up{dependency="redis"} 1.0' in text
