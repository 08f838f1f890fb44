"""User classes for the load tests, against the latency server (latency_server.py)."""

from typing import Any

import gevent
from locust import FastHttpUser, task
from locust.env import Environment

from opsproof.load.checks import check


class Sleepy(FastHttpUser):
    """20 ms per request; a check that always passes."""

    @task
    def get(self) -> None:
        with self.client.get("/sleep/20", name="/sleep", catch_response=True) as answer:
            check(self, "status is 200", answer.status_code == 200)


class Slow(FastHttpUser):
    """200 ms per request: few VUs cannot keep up with a high arrival rate."""

    @task
    def get(self) -> None:
        self.client.get("/sleep/200", name="/slow")


class Quick(FastHttpUser):
    """1 ms per request; the first of every ten iterations of each user is answered 500
    (counted, not drawn, so a short run is sure to see failures)."""

    iterations = 0

    @task
    def get(self) -> None:
        fails = self.iterations % 10 == 0
        self.iterations += 1
        if fails:
            self.client.get("/status/500", name="/fail")
        else:
            self.client.get("/sleep/1", name="/quick")


class Distributed(FastHttpUser):
    """Latency drawn from the server's known distribution (for the accuracy benchmark)."""

    @task
    def get(self) -> None:
        self.client.get("/dist/x", name="/dist")


class SlowToSend(FastHttpUser):
    """Spends 30 ms of its own before each request is written; on the wire it takes 1 ms."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        send = self.client._send_request_safe_mode

        def late(*args: Any, **kwargs: Any) -> Any:
            gevent.sleep(0.03)
            return send(*args, **kwargs)

        self.client._send_request_safe_mode = late  # type: ignore[method-assign]

    @task
    def get(self) -> None:
        self.client.get("/sleep/1", name="/late")
