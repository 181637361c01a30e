"""Distributed load: a Locust master plus workers, with every worker's records merged into the
master's stream (imports locust: only the child processes import this module).

This is Locust's own scale-out machinery (``MasterRunner`` / ``WorkerRunner``, ZeroMQ), with
custom messages (``runner.register_message`` / ``send_message``) on top:

- ``harness_clock`` (worker -> master) / ``harness_clock_reply`` (master -> worker): the clock
  probes (:mod:`harness.load.clock`). The worker sends ``{"t1": epoch_s}`` (its clock), the
  master answers ``{"t1", "t2", "t3"}`` (its clock on receipt and on reply), the worker notes
  ``t4``; CLOCK_PROBES round trips, one after the other, once the worker's handlers are
  registered. The worker then knows ``offset_s`` (master clock = its clock + offset) and moves
  everything it sends into the master's clock: every record's ``start_s`` (open model: the
  intended send time), the oldest in-flight start; and the ``t0`` it receives into its own.
- ``harness_records`` (worker -> master): ``{"n": count, "lines": "R\\t<record>\\n..."}``, a
  batch of protocol lines, sent every FLUSH_INTERVAL_S and right before each of the worker's
  stats reports, once its clock offset is known (records of a worker that joins a running
  load before that are held, then shifted). The master appends the block to its stdout as
  is, so the parent reads one stream that looks exactly like a local child's.
- ``harness_hello`` (worker -> master): ``{"clock_offset_ms", "rtt_ms", "probes"}``, sent once
  the clock is measured; the master counts a worker as ready only then (Locust drops a
  message whose handler is not registered yet, and the runner connects before handlers can
  be registered). The master refuses the run (``error`` event) when a worker's best round
  trip exceeds CLOCK_MAX_RTT_MS or none of its probes was answered: its offset cannot be
  bounded (:func:`harness.load.clock.clock_refusal`).
- ``harness_t0`` (master -> worker): ``{"t0": epoch_s, "end": epoch_s}`` (master clock), the
  load's start and end, sent before the users are dispatched (and in reply to the hello of a
  worker that joins later): the open model's arrivals of every worker count from it.
- ``harness_inflight`` (worker -> master): ``{"n", "oldest_start_s"}`` every
  IN_FLIGHT_EVERY_S; the master sums them into its ``inflight`` event.
- ``harness_stop`` / ``harness_stopped``: the end handshake. When the duration is over the master
  asks each worker to stop; a worker stops its arrivals and its users (each finishes its
  request in flight, up to Locust's stop timeout), sends its last records, then its final stats
  report, then ``harness_stopped`` with its own counts. Messages from one worker arrive in
  order, so once every worker answered, the master holds every record and every stats report:
  ``locust_requests`` (Locust's aggregated total) equals the record count. Only then does the
  master write ``stopped`` and quit the workers. ``stopped`` has per worker its counts and its
  clock (``clock_offset_ms``, ``rtt_ms``).

Records carry no worker id; ``stopped`` has per-worker counts (``workers``), by Locust's
worker index, so a test can see that every worker contributed.

Local workers are started by the master (``python -m harness.load.worker --worker
127.0.0.1:PORT SPEC``) in its own process group, so the driver's group kill stops them too.
Remote workers join through ``master_bind`` with the same command and the same spec (and
locustfile) on their machine; they count toward nothing in advance (the master waits for the
local ones, then redistributes users when another worker joins).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import gevent
import gevent.event

from harness.load.clock import (CLOCK_PROBE_TIMEOUT_S, CLOCK_PROBES, ClockSample, best_sample, clock_refusal,
                                clock_report, shift_lines)
from harness.load.hook import RecordHook
from harness.load.inflight import IN_FLIGHT_EVERY_S, InFlight, merge_snapshots
from harness.load.open_model import interleave_offset_s, worker_rate_rps
from harness.load.timeouts import WORKER_EXIT_TIMEOUT_S, stop_handshake_timeout_s
from harness.load.worker import (FLUSH_INTERVAL_S, Output, environment, locust_totals, open_model, report_in_flight,
                                 spawn_rate)
from harness.load.worker_users import Arrivals

WORKERS_READY_TIMEOUT_S = 45.0
"""How long the master waits for its local workers to connect (each imports locust)."""
LOCAL_WORKER_ENV = "HARNESS_LOAD_LOCAL_WORKER"
"""Set by the master on the workers it starts: they die with it (``PR_SET_PDEATHSIG``) instead
of loading the target until Locust's 60 s heartbeat timeout."""
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the heartbeat timeout still ends the worker
        pass


@dataclass
class WorkerCounts:
    """What the master knows about one worker: its counts, its clock against the master's
    (``clock_offset_ms``: master clock - worker clock; ``rtt_ms``: the best probe's round
    trip, twice the offset's uncertainty) and its latest in-flight snapshot."""

    index: int
    records: int = 0
    locust_requests: int = 0
    unsent: int = 0
    killed_in_flight: int = 0
    cpu_s: float | None = None
    clock_offset_ms: float | None = None
    rtt_ms: float | None = None
    in_flight: dict | None = None
    ready: bool = False
    """Said hello with a bounded clock offset: connected, and its handlers are registered."""
    stopped: bool = False

    def as_event(self) -> dict:
        """The worker's entry in the ``stopped`` event's ``workers`` list."""
        return {"index": self.index, "records": self.records, "locust_requests": self.locust_requests,
                "unsent": self.unsent, "killed_in_flight": self.killed_in_flight, "cpu_s": self.cpu_s,
                "clock_offset_ms": self.clock_offset_ms, "rtt_ms": self.rtt_ms}


def _bind(spec: dict) -> tuple[str, int]:
    """Where the master listens: ``master_bind`` (``host:port``), else loopback on a free port."""
    bind = spec.get("master_bind") or "127.0.0.1:0"
    host, _, port = bind.rpartition(":")
    return (host or "127.0.0.1"), int(port)


def _local_connect_host(bind_host: str) -> str:
    """The address local workers dial: loopback for a wildcard bind, else the bound address."""
    return "127.0.0.1" if bind_host in ("*", "0.0.0.0", "::", "[::]") else bind_host


class Refused(RuntimeError):
    """The master refuses the run: a worker's clock offset cannot be bounded."""


def sleep_until_or_refused(deadline_s: float, refusals: list[str]) -> None:
    """Sleep until epoch ``deadline_s`` (wall clock).

    Raises:
        Refused: as soon as ``refusals`` holds a reason (a worker that joined meanwhile).
    """
    while (left := deadline_s - time.time()) > 0:
        if refusals:
            raise Refused(refusals[0])
        gevent.sleep(min(left, 0.1))
    if refusals:
        raise Refused(refusals[0])


def report_merged_in_flight(out: Output, workers: dict[str, WorkerCounts]) -> None:
    """Forever (a greenlet): every IN_FLIGHT_EVERY_S, one ``inflight`` event summing the latest
    snapshot of every worker still running."""
    while True:
        gevent.sleep(IN_FLIGHT_EVERY_S)
        snapshots = [w.in_flight for w in list(workers.values()) if w.in_flight and not w.stopped]
        out.event(event="inflight", **merge_snapshots(snapshots))


def run_master(spec: dict, spec_path: str, out: Output) -> int:
    """The master: start local workers, wait for them (and their clock measurement), dispatch
    users, merge the workers' records into ``out``, stop everyone after the duration; return
    the exit code.

    Raises:
        Refused: a worker's clock offset cannot be bounded (before or during the load).
        RuntimeError: a local worker died or not every worker joined in time.
    """
    env = environment(spec, None, InFlight())
    host, port = _bind(spec)
    runner = env.create_master_runner(master_bind_host=host, master_bind_port=port)
    port = runner.server.port
    out.event(event="master", host=host, port=port)
    workers: dict[str, WorkerCounts] = {}
    refusals: list[str] = []
    t0: float | None = None

    def counts(client_id: str) -> WorkerCounts:
        if client_id not in workers:
            workers[client_id] = WorkerCounts(runner.get_worker_index(client_id))
        return workers[client_id]

    def on_clock(environment, msg, **_kw) -> None:
        t2 = time.time()
        runner.send_message("harness_clock_reply", {"t1": msg.data["t1"], "t2": t2, "t3": time.time()},
                            client_id=msg.node_id)

    def on_records(environment, msg, **_kw) -> None:
        out.buffer.append(msg.data["lines"])
        counts(msg.node_id).records += msg.data["n"]

    def on_in_flight(environment, msg, **_kw) -> None:
        counts(msg.node_id).in_flight = msg.data

    def on_stopped(environment, msg, **_kw) -> None:
        c = counts(msg.node_id)
        c.unsent, c.cpu_s, c.stopped = msg.data["unsent"], msg.data.get("cpu_s"), True
        c.killed_in_flight = msg.data.get("killed_in_flight", 0)

    def on_report(client_id: str, data: dict, **_kw) -> None:
        counts(client_id).locust_requests += data["stats_total"]["num_requests"]

    def on_hello(environment, msg, **_kw) -> None:
        c = counts(msg.node_id)
        report = msg.data or {}
        c.clock_offset_ms, c.rtt_ms = report.get("clock_offset_ms"), report.get("rtt_ms")
        refusal = clock_refusal(c.index, report)
        if refusal:
            refusals.append(refusal)
            return
        c.ready = True
        if t0 is not None:  # a worker joining a running load gets the common start
            runner.send_message("harness_t0", {"t0": t0, "end": t0 + spec["duration_s"]}, client_id=msg.node_id)

    runner.register_message("harness_clock", on_clock)
    runner.register_message("harness_hello", on_hello)
    runner.register_message("harness_records", on_records)
    runner.register_message("harness_inflight", on_in_flight)
    runner.register_message("harness_stopped", on_stopped)
    env.events.worker_report.add_listener(on_report)
    gevent.spawn(out.run)

    local = int(spec.get("workers") or 0)
    cmd = [sys.executable, "-m", "harness.load.worker", "--worker", f"{_local_connect_host(host)}:{port}", spec_path]
    env_vars = {**os.environ, LOCAL_WORKER_ENV: str(os.getpid())}
    procs = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env_vars)
             for _ in range(local)]
    quit_done = False
    try:
        expected = max(local, 1)
        deadline = time.monotonic() + WORKERS_READY_TIMEOUT_S
        while sum(c.ready for c in workers.values()) < expected:
            if refusals:
                raise Refused(refusals[0])
            dead = [p.returncode for p in procs if p.poll() is not None]
            if dead:
                raise RuntimeError(f"a local worker exited with {dead[0]} before joining (see locust.log)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{sum(c.ready for c in workers.values())} of {expected} workers joined "
                                   f"within {WORKERS_READY_TIMEOUT_S:.0f} s")
            gevent.sleep(0.05)
        t0, cpu0 = time.time(), time.process_time()
        for client_id in [c for c, w in workers.items() if w.ready]:
            runner.send_message("harness_t0", {"t0": t0, "end": t0 + spec["duration_s"]}, client_id=client_id)
        gevent.spawn(runner.start, spec["users"], spawn_rate(spec))
        out.event(event="started", t=t0, workers=runner.worker_count)
        reporter = gevent.spawn(report_merged_in_flight, out, workers)
        sleep_until_or_refused(t0 + spec["duration_s"], refusals)
        stop_requested_t = time.time()

        asked = [c for c, w in workers.items() if w.ready]
        for client_id in asked:
            runner.send_message("harness_stop", None, client_id=client_id)
        deadline = time.monotonic() + stop_handshake_timeout_s(spec["request_timeout_s"])
        while not all(workers[c].stopped for c in asked) and time.monotonic() < deadline:
            gevent.sleep(0.02)
        reporter.kill()
        missing = sorted(workers[c].index for c in asked if not workers[c].stopped)
        out.flush()
        out.event(event="stopped", t=time.time(), stop_requested_t=stop_requested_t,
                  records=sum(c.records for c in workers.values()), unsent=sum(c.unsent for c in workers.values()),
                  killed_in_flight=sum(c.killed_in_flight for c in workers.values()),
                  workers=[c.as_event() for c in sorted(workers.values(), key=lambda c: c.index)],
                  missing_workers=missing, cpu_s=round(time.process_time() - cpu0, 3), **locust_totals(env))
        runner.quit()
        quit_done = True
        return 0
    finally:
        if not quit_done:  # refused or failed: no worker (remote ones included) keeps loading the target
            runner.quit()
        for p in procs:
            try:
                p.wait(timeout=WORKER_EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class ClockProbe:
    """A worker's clock measurement against its master: CLOCK_PROBES round trips of
    ``harness_clock`` / ``harness_clock_reply``, one after the other.

    Args:
        send: sends ``harness_clock`` with the given data to the master.
    """

    def __init__(self, send: Callable[[dict], None]) -> None:
        self.send = send
        self.samples: list[ClockSample] = []
        self._pending: gevent.event.AsyncResult | None = None
        self._t1: float | None = None

    def on_reply(self, environment, msg, **_kw) -> None:
        """Handler of ``harness_clock_reply``: completes the pending probe (stale replies, of a
        probe that timed out, are ignored)."""
        t4 = time.time()
        data = msg.data or {}
        if self._pending is not None and data.get("t1") == self._t1:
            self._pending.set(ClockSample(data["t1"], data["t2"], data["t3"], t4))

    def measure(self) -> dict:
        """Probe the master (blocks the calling greenlet: at most CLOCK_PROBES x
        CLOCK_PROBE_TIMEOUT_S); return the :func:`harness.load.clock.clock_report` of the best
        round trip (None fields when no probe was answered)."""
        for _ in range(CLOCK_PROBES):
            self._pending, self._t1 = gevent.event.AsyncResult(), time.time()
            self.send({"t1": self._t1})
            try:
                self.samples.append(self._pending.get(timeout=CLOCK_PROBE_TIMEOUT_S))
            except gevent.Timeout:
                break
        self._pending = None
        return clock_report(best_sample(self.samples), len(self.samples))

    @property
    def offset_s(self) -> float | None:
        """Master clock minus this worker's clock, seconds (best round trip); None if unmeasured."""
        best = best_sample(self.samples)
        return best.offset_s if best else None


def run_worker(spec: dict, master_host: str, master_port: int) -> int:
    """A worker: measure its clock against the master's, run the users the master dispatches,
    send their records (moved into the master's clock) to the master in batches, answer the
    stop handshake; return the exit code when the master says quit."""
    if os.environ.get(LOCAL_WORKER_ENV):
        _die_with_parent()
        if str(os.getppid()) != os.environ[LOCAL_WORKER_ENV]:  # the master died before prctl
            return 1
    runner = None
    total_users = int(spec["users"])
    rate = float(spec["rate_rps"]) if open_model(spec) else 0.0

    def my_rate() -> float:
        return worker_rate_rps(rate, runner.target_user_count or 0, total_users) if runner else 0.0

    def my_offset(worker_rate: float) -> float:
        return interleave_offset_s(rate, worker_rate, max(runner.worker_index, 0)) if runner else 0.0

    arrivals = Arrivals(my_rate, my_offset) if rate else None
    in_flight = InFlight()
    scope = lambda: f"worker:{runner.worker_index if runner else -1}:"  # noqa: E731
    env = environment(spec, arrivals, in_flight, scope)
    batch: list[str] = []
    hook = RecordHook(batch.append)
    env.events.request.add_listener(hook)
    runner = env.create_worker_runner(master_host, master_port)
    clock = ClockProbe(lambda data: runner.send_message("harness_clock", data))
    offset_s: float | None = None
    """Master clock minus ours, once measured: nothing is sent to the master before."""
    sent = 0

    def flush(**_kw) -> None:
        nonlocal sent
        if batch and offset_s is not None:
            lines, n = "".join(batch), hook.count - sent  # records only: the batch may hold ack events
            batch.clear()
            runner.send_message("harness_records", {"n": n, "lines": lines})
            sent += n

    def flusher() -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            flush()

    def send_in_flight(**snapshot) -> None:
        if offset_s is not None:
            runner.send_message("harness_inflight", snapshot)

    def hello() -> None:
        nonlocal offset_s
        report = clock.measure()
        if clock.offset_s is not None:
            # records of users the master dispatched before the offset was known (a worker that
            # joins a running load), then every later one, move into the master's clock
            batch[:] = shift_lines(batch, clock.offset_s)
            hook.offset_s = offset_s = clock.offset_s
        runner.send_message("harness_hello", report)

    cpu0 = time.process_time()

    def on_t0(environment, msg, **_kw) -> None:
        nonlocal cpu0
        cpu0 = time.process_time()
        if arrivals:  # the master's t0 and end, in our clock
            arrivals.start(msg.data["t0"] - (offset_s or 0.0), msg.data["end"] - (offset_s or 0.0))

    def on_stop(environment, msg, **_kw) -> None:
        in_flight.stopping()
        unsent = arrivals.stop() if arrivals else 0
        runner.stop()  # users finish their request in flight (Locust's stop_timeout)
        runner._send_stats()  # flushes the records (report_to_master listener), then the stats
        runner.send_message("harness_stopped", {"records": sent, "unsent": unsent,
                                                "killed_in_flight": in_flight.killed,
                                                "cpu_s": round(time.process_time() - cpu0, 3)})

    # Listeners run in order before the stats message is sent: records always precede the stats
    # report that counts them.
    env.events.report_to_master.add_listener(lambda client_id, data: flush())
    runner.register_message("harness_clock_reply", clock.on_reply)
    runner.register_message("harness_t0", on_t0)
    # concurrent: the stop waits for the users' last requests; the worker keeps receiving meanwhile
    runner.register_message("harness_stop", on_stop, concurrent=True)
    # Only now may the master answer our probes and send us the start: a message that arrives
    # before its handler is registered is dropped by Locust.
    gevent.spawn(hello)
    gevent.spawn(flusher)
    gevent.spawn(report_in_flight, send_in_flight, in_flight, lambda: offset_s or 0.0)
    runner.greenlet.join()
    return 0
