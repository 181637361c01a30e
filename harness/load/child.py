"""What every role of the load child uses: the protocol channel to the parent, Locust's
environment for the spec's users, Locust's own totals and the in-flight reporter.

The protocol itself (lines, events, start signal) is described in :mod:`harness.load.worker`.
The single-process load (:mod:`harness.load.worker_local`) and the distributed one
(:mod:`harness.load.distributed`) both build on this module and never on each other.

Imports locust (which monkey-patches the process with gevent): only the child processes import
this module, never the orchestrator.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable

import gevent
from locust import events
from locust.env import Environment

from harness.load.hook import join_lines
from harness.load.inflight import IN_FLIGHT_EVERY_S, InFlight
from harness.load.records import EVENT_PREFIX
from harness.load.timeouts import stop_timeout_s
from harness.load.worker_users import Arrivals, user_classes

FLUSH_INTERVAL_S = 0.05
"""Records are batched and written every 50 ms: cheap, and fresh enough for live progress."""

LOCUST_PERCENTILES = (("locust_p50_ms", 0.50), ("locust_p95_ms", 0.95), ("locust_p99_ms", 0.99))
"""The ``stopped`` event's fields for Locust's own percentiles: (field, fraction of requests)."""


class Output:
    """The protocol channel: a batch buffer, written to a private fd by :meth:`flush`.

    Args:
        fd: file descriptor of the pipe to the parent.

    The buffer holds protocol lines, and records of a ``raw`` record hook as their fields
    (formatted at the flush: :func:`harness.load.hook.join_lines`).
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer: list[str | tuple] = []

    @classmethod
    def take_stdout(cls) -> "Output":
        """Keep the original stdout for the protocol only; send fd 1 and ``sys.stdout`` to stderr."""
        sys.stdout.flush()
        out = cls(os.dup(1))
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        return out

    def event(self, **fields: object) -> None:
        """Write an event line, after every record buffered before it."""
        self.buffer.append(EVENT_PREFIX + json.dumps(fields) + "\n")
        self.flush()

    def flush(self) -> None:
        """Write everything buffered (blocks while the pipe is full: back-pressure, never a drop)."""
        if not self.buffer:
            return
        data = join_lines(self.buffer).encode("utf-8")
        self.buffer.clear()
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def run(self) -> None:
        """Flush every FLUSH_INTERVAL_S (a greenlet)."""
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            self.flush()


def freeze_heap() -> None:
    """Collect the garbage once, then move every object alive now (the interpreter's, Locust's
    and the harness's modules, classes and the user classes: what start-up built) into the
    garbage collector's permanent generation, so the collections the load triggers no longer
    traverse them (:func:`gc.freeze`). Call it once, just before the users start: objects made
    later are collected as usual. Takes a few ms; never raises."""
    gc.collect()
    gc.freeze()


def locust_totals(env: Environment) -> dict:
    """Locust's own request totals and rounded percentiles (``None`` without requests): the
    ``locust_requests`` and ``locust_failures`` counts and the LOCUST_PERCENTILES fields, ms."""
    total = env.stats.total
    fields: dict = {"locust_requests": total.num_requests, "locust_failures": total.num_failures}
    for key, fraction in LOCUST_PERCENTILES:
        fields[key] = float(total.get_response_time_percentile(fraction)) if total.num_requests else None
    return fields


def open_model(spec: dict) -> bool:
    """True when the spec asks for a fixed arrival rate."""
    return bool(spec.get("rate_rps"))


def spawn_rate(spec: dict) -> float:
    """Users per second: the spec's for the closed model; the whole pool at once for the open
    model (a pool still ramping up would show as latency of the first arrivals)."""
    return float(spec["users"]) if open_model(spec) else float(spec["spawn_rate"])


def environment(spec: dict, arrivals: Arrivals | None, in_flight: InFlight,
                seed_scope: Callable[[], str] = lambda: "") -> Environment:
    """Locust's environment for the spec's users (:func:`harness.load.worker_users.user_classes`
    with ``arrivals`` and ``seed_scope``), counting their requests in ``in_flight``. Stopping
    users finish their request in flight for up to :func:`harness.load.timeouts.stop_timeout_s`
    seconds (Locust's ``stop_timeout``) before they are killed."""
    return Environment(user_classes=user_classes(spec, arrivals, seed_scope, in_flight), events=events,
                       host=spec["host"], stop_timeout=stop_timeout_s(spec["request_timeout_s"]))


def report_in_flight(send: Callable[..., None], in_flight: InFlight,
                     offset_s: Callable[[], float] = lambda: 0.0) -> None:
    """Forever (a greenlet): every IN_FLIGHT_EVERY_S, ``send(n=int, oldest_start_s=epoch_s |
    None)`` from ``in_flight``, the oldest start shifted by ``offset_s()`` seconds."""
    while True:
        gevent.sleep(IN_FLIGHT_EVERY_S)
        send(**in_flight.snapshot(offset_s()))
