"""A paced user for Locust's own figure in the latency benchmark (bench/latency_accuracy.py): one
GET /version (Toxiproxy's own API, through the proxy in front of it) every 1.2 s per user,
whatever the response time below that. Spawned all at once (``-u 60 -r 60``), the users stagger
their first request over one period, so 60 users send an even 50 requests/s, without latency
and under up to ~1.1 s of it alike: the rate of the harness's open-model run of
bench/scenarios/latency.yaml."""

import itertools

import gevent
from locust import constant_pacing, task
from locust.contrib.fasthttp import FastHttpUser

USERS = 60
PACING_S = 1.2
_started = itertools.count()


class VersionUser(FastHttpUser):
    wait_time = constant_pacing(PACING_S)
    network_timeout = 5.0
    connection_timeout = 5.0

    def on_start(self) -> None:
        gevent.sleep((next(_started) % USERS) * PACING_S / USERS)

    @task
    def version(self) -> None:
        self.client.get("/version", name="GET /version")
