"""One FastHttpUser asking ``GET /`` with no think time, and the CPU its process spends on the load.

The user class of the driver CPU benchmark (bench/driver_cpu.py), run unchanged by bare
``locust -f`` and by ``harness run`` (``load.locustfile``, bench/scenarios/driver_cpu.yaml).

Both run it in a Locust ``LocalRunner``, which fires ``test_start`` when it starts spawning the
users and ``test_stop`` once they have stopped (``Runner.start`` / ``Runner.stop``), in bare
``locust --headless`` and in the harness's single-process load child
(harness/load/worker_local.py) alike. Listeners on those two events take
``time.process_time()`` (user + system CPU seconds of the process running the users, all its
threads) and Locust's own request count, and when the environment variable ``BENCH_CPU_OUT``
names a file, ``test_stop`` writes one JSON object there::

    {"cpu_s": ..., "wall_s": ..., "requests": ..., "failures": ..., "pid": ..., "argv0": ...}

``cpu_s`` and ``wall_s`` are seconds from ``test_start`` to ``test_stop``; ``requests`` and
``failures`` are Locust's totals at ``test_stop`` (``stats.clear_all()`` runs just before
``test_start``, so they count this load only). The same measurement on both sides: what differs
is only what else the process does per request (in the harness: its record hook, the in-flight
bookkeeping and the batch writer to the orchestrator's pipe).
"""

import json
import os
import sys
import time

from locust import FastHttpUser, constant, events, task

_START: dict = {}


class StaticUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self) -> None:
        self.client.get("/")


@events.test_start.add_listener
def _cpu_at_start(environment, **_kwargs) -> None:
    _START.update(cpu=time.process_time(), wall=time.perf_counter())


@events.test_stop.add_listener
def _cpu_at_stop(environment, **_kwargs) -> None:
    path = os.environ.get("BENCH_CPU_OUT")
    if not path or not _START:
        return
    total = environment.stats.total
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"cpu_s": round(time.process_time() - _START["cpu"], 6),
                   "wall_s": round(time.perf_counter() - _START["wall"], 6),
                   "requests": total.num_requests, "failures": total.num_failures,
                   "pid": os.getpid(), "argv0": sys.argv[0]}, f)
