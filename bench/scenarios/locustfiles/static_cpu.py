"""One FastHttpUser asking ``GET /`` with no think time, and the CPU its process spends on the load.

The user class of the driver CPU benchmark (bench/driver_cpu.py), run unchanged by bare
``locust -f`` and by ``harness run`` (``load.locustfile``, bench/scenarios/driver_cpu.yaml).

Both run it in a Locust ``LocalRunner``, which fires ``test_start`` when it starts spawning the
users and ``test_stop`` once they have stopped (``Runner.start`` / ``Runner.stop``), in bare
``locust --headless`` and in the harness's single-process load child
(harness/load/worker_local.py) alike. From ``test_start`` to ``test_stop`` a greenlet takes a
snapshot every SNAPSHOT_EVERY_S seconds: ``[epoch s, time.process_time(), requests, failures]``
(user + system CPU seconds of the process running the users, all its threads; Locust's own
request and failure totals, which ``stats.clear_all()`` zeroes just before ``test_start``), and
one more at each of the two events. When the environment variable ``BENCH_CPU_OUT`` names a
file, ``test_stop`` writes them there as one JSON object::

    {"snapshots": [[t, cpu_s, requests, failures], ...], "pid": ..., "argv0": ...,
     "cpu_s": ..., "wall_s": ..., "requests": ..., "failures": ...}

``cpu_s``, ``wall_s``, ``requests`` and ``failures`` are the whole window's, test_start to
test_stop; the snapshots let bench/driver_cpu.py take both processes of a pair over the very
same stretch of time. The same measurement on both sides: what differs is only what else the
process does per request (in the harness: its record hook, the in-flight bookkeeping and the
batch writer to the orchestrator's pipe).
"""

import json
import os
import sys
import time

import gevent
from locust import FastHttpUser, constant, events, task

SNAPSHOT_EVERY_S = 0.25
_STATE: dict = {}


class StaticUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def root(self) -> None:
        self.client.get("/")


def _snapshot(environment) -> list:
    total = environment.stats.total
    return [time.time(), time.process_time(), total.num_requests, total.num_failures]


def _snapshots(environment) -> None:
    while True:
        gevent.sleep(SNAPSHOT_EVERY_S)
        _STATE["snapshots"].append(_snapshot(environment))


@events.test_start.add_listener
def _cpu_at_start(environment, **_kwargs) -> None:
    _STATE["snapshots"] = [_snapshot(environment)]
    _STATE["sampler"] = gevent.spawn(_snapshots, environment)


@events.test_stop.add_listener
def _cpu_at_stop(environment, **_kwargs) -> None:
    if "sampler" not in _STATE:
        return
    _STATE.pop("sampler").kill()
    snapshots = _STATE["snapshots"] + [_snapshot(environment)]
    path = os.environ.get("BENCH_CPU_OUT")
    if not path:
        return
    first, last = snapshots[0], snapshots[-1]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"snapshots": snapshots, "pid": os.getpid(), "argv0": sys.argv[0],
                   "cpu_s": round(last[1] - first[1], 6), "wall_s": round(last[0] - first[0], 6),
                   "requests": last[2], "failures": last[3]}, f)
