"""The single-process load: users, record hook and output in this one process (Locust
``LocalRunner``), for a spec with no workers and no ``master_bind``.

Started by :mod:`harness.load.worker` (``python -m harness.load.worker SPEC.json``), which
owns the protocol; built on :mod:`harness.load.child`. Imports locust: child processes only.
"""

from __future__ import annotations

import signal
import time

import gevent
from gevent.event import Event

from harness.load.child import (Output, environment, freeze_heap, locust_totals, open_model, report_in_flight,
                                spawn_rate)
from harness.load.hook import RecordHook
from harness.load.inflight import InFlight
from harness.load.worker_users import Arrivals


STOP_SIGNAL = signal.SIGUSR1
"""Ends the load early, as if its duration had run out (users asked to stop, their requests in
flight drained and recorded, ``stopped`` written): ``harness gameday``'s ``end``
(:meth:`harness.load.LoadDriver.request_stop`). Installed once the load started."""


def sleep_until(deadline_s: float, early: Event | None = None) -> None:
    """Sleep until epoch ``deadline_s`` by the wall clock, or until ``early`` is set. (A single
    ``gevent.sleep`` can end early: the loop's cached time is stale when its first timer is
    armed.)"""
    while (left := deadline_s - time.time()) > 0 and not (early is not None and early.is_set()):
        if early is not None:
            early.wait(min(left, 0.25))
        else:
            gevent.sleep(min(left, 0.25))


def run_local(spec: dict, out: Output) -> int:
    """One process: users, hook and output here (Locust ``LocalRunner``); writes the
    ``started``, ``inflight`` and ``stopped`` events to ``out`` and returns the exit code (0)."""
    rate = float(spec["rate_rps"]) if open_model(spec) else 0.0
    arrivals = Arrivals(lambda: rate) if rate else None
    in_flight = InFlight()
    env = environment(spec, arrivals, in_flight)
    hook = RecordHook(out.buffer.append, raw=True)  # formatted in bulk at each flush
    env.events.request.add_listener(hook)
    runner = env.create_local_runner()
    gevent.spawn(out.run)
    freeze_heap()
    t0, cpu0 = time.time(), time.process_time()
    if arrivals:
        arrivals.start(t0, t0 + spec["duration_s"])
    runner.start(spec["users"], spawn_rate=spawn_rate(spec))
    out.event(event="started", t=t0)
    reporter = gevent.spawn(report_in_flight, lambda **snap: out.event(event="inflight", **snap), in_flight)
    stop_requested_t: float | None = None
    early = Event()
    gevent.signal_handler(STOP_SIGNAL, early.set)

    def finish() -> None:
        nonlocal stop_requested_t
        sleep_until(t0 + spec["duration_s"], early)
        stop_requested_t = time.time()
        in_flight.stopping()
        if arrivals:
            arrivals.stop()
        runner.quit()  # users finish their request in flight (Locust's stop_timeout)

    gevent.spawn(finish)
    runner.greenlet.join()
    reporter.kill()
    out.flush()
    out.event(event="stopped", t=time.time(), stop_requested_t=stop_requested_t, records=hook.count,
              unsent=arrivals.unsent if arrivals else 0, killed_in_flight=in_flight.killed,
              killed_after_stop=in_flight.killed_after_stop,
              cpu_s=round(time.process_time() - cpu0, 3), **locust_totals(env))
    return 0
