"""A paced user for the latency benchmark: one GET /version (Toxiproxy's own API, through the
proxy in front of it) every 1.2 s per user, whatever the response time below that. With users
spawned 50 per second the load is an even 50 requests/s in the baseline and under up to ~1.1 s
of injected latency alike. The same user class runs in `harness run` (bench/scenarios/latency.yaml)
and in bare `locust -f` (bench/latency_accuracy.py)."""

from locust import constant_pacing, task
from locust.contrib.fasthttp import FastHttpUser


class VersionUser(FastHttpUser):
    wait_time = constant_pacing(1.2)
    network_timeout = 5.0
    connection_timeout = 5.0

    @task
    def version(self) -> None:
        self.client.get("/version", name="GET /version")
