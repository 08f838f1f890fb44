"""The benchmarks' user classes: one request per iteration, no think time."""

from locust import FastHttpUser, constant, task


class StaticUser(FastHttpUser):
    """GET nginx's static file as fast as one VU can."""

    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get("/static.txt", name="/static.txt")


class DistUser(FastHttpUser):
    """GET a latency drawn from the latency server's known distribution."""

    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get("/dist/x", name="/dist")
