"""A user that only fires Locust ``request`` events, as fast as one process can (no network):
bench/record_stream.py measures how many records per second flow from one Locust process
(or one worker, through its master) into the orchestrator's requests.tsv. Every event goes
through Locust's own statistics and the harness's record hook, like a real request's."""

import time

import gevent
from locust import User, constant, task

BURST = 200
"""Events per task run; the user yields to the other greenlets (the record flusher) between bursts."""


class NullUser(User):
    wait_time = constant(0)

    @task
    def burst(self) -> None:
        fire = self.environment.events.request.fire
        for _ in range(BURST):
            fire(request_type="GET", name="/null", response_time=0.25, response_length=64, response=None,
                 context={}, exception=None, start_time=time.time(), url="/null")
        gevent.sleep(0)
