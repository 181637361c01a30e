"""The load child: runs Locust headless and streams one record per request on stdout.

Never imported by the orchestrator (importing locust monkey-patches the process with gevent).
Three roles, one module:

- ``python -m harness.load.worker SPEC.json``: the child the driver starts. With
  ``workers == 0`` and no ``master_bind`` it runs the users itself (Locust ``LocalRunner``);
  otherwise it is a Locust master that starts ``workers`` worker processes on this machine
  (see :mod:`harness.load.worker_distributed`) and streams their records.
- ``python -m harness.load.worker --worker HOST:PORT SPEC.json``: a Locust worker that joins the
  master at ``HOST:PORT``, on this machine or on another one (same spec, same locustfile).

Protocol on stdout (the parent reads it with :class:`harness.load.stream.StreamReader`), one
line each, written in batches every FLUSH_INTERVAL_S:

- ``R\\t<record>``: a request record (:mod:`harness.load.records` format);
- ``E\\t<json>``: an event:

  - ``{"event": "master", "host", "port"}``: distributed only, where workers join;
  - ``{"event": "started", "t": epoch_s, ...}``: users are starting; ``t`` is the load's t0;
  - ``{"event": "inflight", "n": int, "oldest_start_s": epoch_s | null}``: every
    IN_FLIGHT_EVERY_S (0.5 s) from the start to the end of the drain: requests sent and not
    answered yet (summed over the workers in distributed mode), and when the oldest of them
    was actually sent (see :mod:`harness.load.inflight`);
  - ``{"event": "stopped", "t", "stop_requested_t", "records", "locust_requests",
    "locust_failures", "locust_p50_ms", "locust_p95_ms", "locust_p99_ms", "unsent",
    "killed_in_flight", "cpu_s", "workers"}``: the load is over. ``stop_requested_t`` is when
    the duration ended and the users were asked to stop; ``t`` is after the drain: users finish
    the request they have in flight (answered or timed out, at most Locust's stop timeout,
    :func:`harness.load.timeouts.stop_timeout_s`) instead of being killed, so the requests in
    flight at the end are recorded, with their own start time. ``records`` is how many records
    the child wrote, ``locust_*`` are Locust's own totals and (bucket-rounded) percentiles, so
    the parent can check that no record was dropped and show both percentile views;
    ``unsent`` counts open-model arrivals still queued at the end; ``killed_in_flight`` counts
    requests still in flight when the stop timeout ran out (killed, no record); ``cpu_s`` is
    the CPU time this process used during the load (a saturated load generator shows here);
    ``workers`` (distributed) has one ``{"index", "records", "locust_requests", "unsent",
    "killed_in_flight", "cpu_s", "clock_offset_ms", "rtt_ms"}`` per worker (see
    :mod:`harness.load.worker_distributed`);
  - ``{"event": "error", "message"}``: the child could not run the load.

Start signal: the child imports Locust and reads its spec, then waits for a line ``go`` on its
stdin before it starts any user (the driver spawns it early, so that its start-up overlaps the
stack's health wait). End-of-file instead of ``go`` (the orchestrator died or gave up) ends the
child with exit code 3 and no request sent. Workers (``--worker``) do not wait: their master
starts them after its own ``go``.

The protocol uses a private duplicate of the original stdout; file descriptor 1 and
``sys.stdout`` are pointed at stderr, so a ``print`` in a user's locustfile lands in
``locust.log`` instead of corrupting the stream. Locust's logs go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import gevent
from locust import events
from locust.env import Environment
from locust.log import setup_logging

from harness.load.hook import RecordHook
from harness.load.inflight import IN_FLIGHT_EVERY_S, InFlight
from harness.load.records import EVENT_PREFIX
from harness.load.timeouts import stop_timeout_s
from harness.load.worker_users import Arrivals, user_classes

FLUSH_INTERVAL_S = 0.05
"""Records are batched and written every 50 ms: cheap, and fresh enough for live progress."""

LOCUST_PERCENTILES = (("locust_p50_ms", 0.50), ("locust_p95_ms", 0.95), ("locust_p99_ms", 0.99))


class Output:
    """The protocol channel: a batch buffer, written to a private fd by :meth:`flush`.

    Args:
        fd: file descriptor of the pipe to the parent.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer: list[str] = []

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
        data = "".join(self.buffer).encode("utf-8")
        self.buffer.clear()
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def run(self) -> None:
        """Flush every FLUSH_INTERVAL_S (a greenlet)."""
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            self.flush()


def locust_totals(env: Environment) -> dict:
    """Locust's own request totals and rounded percentiles (``None`` without requests)."""
    total = env.stats.total
    fields: dict = {"locust_requests": total.num_requests, "locust_failures": total.num_failures}
    for key, fraction in LOCUST_PERCENTILES:
        fields[key] = float(total.get_response_time_percentile(fraction)) if total.num_requests else None
    return fields


def sleep_until(deadline_s: float) -> None:
    """Sleep until epoch ``deadline_s`` by the wall clock. (A single ``gevent.sleep`` can end
    early: the loop's cached time is stale when its first timer is armed.)"""
    while (left := deadline_s - time.time()) > 0:
        gevent.sleep(min(left, 0.25))


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


def run_local(spec: dict, out: Output) -> int:
    """One process: users, hook and output here (Locust ``LocalRunner``)."""
    rate = float(spec["rate_rps"]) if open_model(spec) else 0.0
    arrivals = Arrivals(lambda: rate) if rate else None
    in_flight = InFlight()
    env = environment(spec, arrivals, in_flight)
    hook = RecordHook(out.buffer.append)
    env.events.request.add_listener(hook)
    runner = env.create_local_runner()
    gevent.spawn(out.run)
    t0, cpu0 = time.time(), time.process_time()
    if arrivals:
        arrivals.start(t0, t0 + spec["duration_s"])
    runner.start(spec["users"], spawn_rate=spawn_rate(spec))
    out.event(event="started", t=t0)
    reporter = gevent.spawn(report_in_flight, lambda **snap: out.event(event="inflight", **snap), in_flight)
    stop_requested_t: float | None = None

    def finish() -> None:
        nonlocal stop_requested_t
        sleep_until(t0 + spec["duration_s"])
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


def distributed(spec: dict) -> bool:
    """True when the spec asks for a Locust master and workers."""
    return int(spec.get("workers") or 0) > 0 or bool(spec.get("master_bind"))


def wait_for_go() -> bool:
    """Block until the parent writes ``go`` on stdin (see the module docstring); False when
    stdin ends, or says anything else, first."""
    return sys.stdin.buffer.readline().strip() == b"go"


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring for the arguments); returns the exit code."""
    worker_of = None
    if len(argv) == 3 and argv[0] == "--worker":
        worker_of, argv = argv[1], argv[2:]
    if len(argv) != 1:
        print("usage: python -m harness.load.worker [--worker HOST:PORT] SPEC.json", file=sys.stderr)
        return 2
    spec_path = argv[0]
    spec = json.loads(Path(spec_path).read_text())
    out = Output.take_stdout()  # first: nothing (logging config included) may hold the real stdout
    setup_logging("INFO")  # to stderr: locust.log
    if worker_of is not None:
        from harness.load.worker_distributed import run_worker

        host, _, port = worker_of.rpartition(":")
        os.close(out.fd)  # a worker talks to its master only
        return run_worker(spec, host, int(port))
    if not wait_for_go():
        print("load child: stdin closed before 'go'; no load started", file=sys.stderr)
        return 3
    try:
        if open_model(spec) and spec.get("locustfile"):
            raise ValueError("rate_rps (open model) drives the request mix; it cannot drive a locustfile's own tasks")
        if distributed(spec):
            from harness.load.worker_distributed import run_master

            return run_master(spec, spec_path, out)
        return run_local(spec, out)
    except Exception as exc:  # reported to the parent as one line
        out.event(event="error", message=f"{type(exc).__name__}: {exc}")
        return 2


if __name__ == "__main__":
    # Run the canonical module's main, so harness.load.worker_distributed (which imports
    # harness.load.worker) shares its classes instead of a second copy of this file.
    import gc

    from harness.load.worker import main as _main

    code = _main(sys.argv[1:])
    # Everything went out through unbuffered file descriptors; the orchestrator waits for this
    # process to exit, so spare it the interpreter's final garbage collections (Locust, gevent).
    gc.freeze()
    sys.exit(code)
