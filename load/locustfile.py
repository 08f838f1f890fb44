"""Locust user classes for the reference service: what one VU does in one k6 iteration.

One task call is one iteration. Checks (k6's ``check``) feed the ``checks`` metric without
failing the request; an unexpected answer fails the request, which ``http_req_failed`` counts.
"""

from locust import FastHttpUser, constant, task

from opsproof.load.checks import check

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DRAWING = "size 32 32\nrect 4 4 24 24 #1f77b4\ncircle 16 16 6 #ff7f0e"


class ReferenceServiceUser(FastHttpUser):
    """Mostly reads: liveness, validation, rendering; now and then a job. Thinks 1 s between
    iterations, like the runbook script's ``sleep(1)``."""

    wait_time = constant(1)

    @task(4)
    def health(self) -> None:
        with self.client.get("/health", name="GET /health", catch_response=True) as answer:
            check(self, "health is ok", answer.status_code == 200)

    @task(3)
    def validate(self) -> None:
        with self.client.post(
            "/api/validate", json={"dsl": DRAWING}, name="POST /api/validate", catch_response=True
        ) as answer:
            check(self, "drawing is valid", answer.status_code == 200)

    @task(2)
    def render(self) -> None:
        with self.client.post(
            "/api/render", json={"dsl": DRAWING}, name="POST /api/render", catch_response=True
        ) as answer:
            check(self, "render is a PNG", (answer.content or b"").startswith(PNG_SIGNATURE))

    @task(1)
    def job(self) -> None:
        with self.client.post(
            "/api/jobs", json={"dsl": DRAWING}, name="POST /api/jobs", catch_response=True
        ) as answer:
            if answer.status_code != 202:
                answer.failure(f"job not accepted: {answer.status_code}")
