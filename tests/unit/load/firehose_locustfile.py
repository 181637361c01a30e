"""A locustfile that fires Locust's request event in a tight loop, without any network: it
measures the record stream itself (hook, batching, pipe or ZeroMQ, parent parsing).

Every 20th request is a failure, so error classification is on the path too.
"""

import time

import gevent
from locust import User, constant, task

BURST = 500


class Firehose(User):
    wait_time = constant(0)

    @task
    def burst(self):
        fire = self.environment.events.request.fire
        for i in range(BURST):
            failed = i % 20 == 0
            fire(request_type="GET", name="/synthetic", response_time=1.25, response_length=42, response=None,
                 context={}, exception=ConnectionResetError(104, "Connection reset by peer") if failed else None,
                 start_time=time.time())
        gevent.sleep(0)
