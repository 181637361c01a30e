"""A worker's side of the distributed load (:mod:`harness.load.distributed`): its clock against
the master's, its users and their records (batched, moved into the master's clock, kept until
sent, back-pressured), the common start and the stop handshake. Imports locust: only worker
processes import this module."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import time
from collections.abc import Callable

import gevent
import gevent.event
from locust.exception import RPCError, RPCSendError

from harness.load.child import FLUSH_INTERVAL_S, environment, open_model, report_in_flight
from harness.load.clock import (CLOCK_MAX_RTT_MS, CLOCK_PROBE_TIMEOUT_S, CLOCK_PROBES, CLOCK_REPROBE_EVERY_S,
                                ClockSample, best_sample, clock_report, shift_lines)
from harness.load.distributed import LOCAL_WORKER_ENV
from harness.load.hook import RecordHook
from harness.load.inflight import InFlight
from harness.load.open_model import interleave_offset_s, worker_rate_rps
from harness.load.records import RECORD_PREFIX
from harness.load.worker_users import Arrivals

MAX_UNSENT_LINES = 200_000
"""Lines a worker holds for its master before its users wait (back-pressure): about 12 MB of
60-byte records, 50 s of one core's FastHttpUser load (docs/scale-out.md, sizing)."""
BACKPRESSURE_WAIT_S = 1.0
"""The longest one user waits for a batch to go before its next request."""
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the heartbeat timeout still ends the worker
        pass


class ClockProbe:
    """A worker's clock measurement against its master: CLOCK_PROBES round trips of
    ``harness_clock`` / ``harness_clock_reply``, one after the other.

    Args:
        send: sends ``harness_clock`` with the given data to the master.
    """

    def __init__(self, send: Callable[[dict], None]) -> None:
        self.send = send
        self.samples: list[ClockSample] = []
        self.first: ClockSample | None = None
        """The best sample of the first answered round (the hello's)."""
        self.latest: ClockSample | None = None
        """The best sample of the latest answered round."""
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
        """One round of probes (blocks the calling greenlet: at most CLOCK_PROBES x
        CLOCK_PROBE_TIMEOUT_S); return the :func:`harness.load.clock.clock_report` of the
        round's best round trip (None fields when no probe was answered). The first answered
        round is the hello's; later rounds re-measure during the run."""
        round_samples: list[ClockSample] = []
        for _ in range(CLOCK_PROBES):
            self._pending, self._t1 = gevent.event.AsyncResult(), time.time()
            self.send({"t1": self._t1})
            try:
                round_samples.append(self._pending.get(timeout=CLOCK_PROBE_TIMEOUT_S))
            except gevent.Timeout:
                break
        self._pending = None
        self.samples.extend(round_samples)
        best = best_sample(round_samples)
        if best is not None:
            self.first = self.first or best
            self.latest = best
        return clock_report(best, len(round_samples))

    @property
    def offset_s(self) -> float | None:
        """Master clock minus this worker's clock, seconds (the latest round's best round
        trip); None if unmeasured."""
        return self.latest.offset_s if self.latest else None

    @property
    def drift_ms(self) -> float | None:
        """How far the offset moved since the hello's round (ms); None before two rounds."""
        if self.first is None or self.latest is None or self.latest is self.first:
            return None
        return round((self.latest.offset_s - self.first.offset_s) * 1000, 3)


class WorkerSide:
    """A worker's side of the custom messages (see the module docstring): its users and their
    records, batched and moved into the master's clock, its clock probe, the common start and
    the stop handshake.

    Args:
        spec: the load spec, the same as the master's.
    """

    def __init__(self, spec: dict) -> None:
        self.runner = None
        """Locust's ``WorkerRunner``, once :meth:`connect` made it."""
        self.total_users = int(spec["users"])
        self.rate_rps = float(spec["rate_rps"]) if open_model(spec) else 0.0
        """The whole load's arrival rate (0: closed model); this worker makes its share."""
        self.arrivals = Arrivals(self.my_rate_rps, self.my_offset_s) if self.rate_rps else None
        self.in_flight = InFlight()
        self.env = environment(spec, self.arrivals, self.in_flight, self.seed_scope)
        self.batch: list[str] = []
        """Protocol lines not sent to the master yet (records, and ``ack`` events)."""
        self.drained = gevent.event.Event()
        """Set after each batch the master took: users held back by :meth:`keep` go on."""
        self.hook = RecordHook(self.keep)
        self.env.events.request.add_listener(self.hook)
        self.clock: ClockProbe | None = None
        self.offset_s: float | None = None
        """Master clock minus ours, once measured: nothing is sent to the master before."""
        self.sent = 0
        """Records sent to the master so far."""
        self.cpu0 = 0.0

    def my_rate_rps(self) -> float:
        """This worker's share of the rate, requests/s, from the users the master gave it."""
        if not self.runner:
            return 0.0
        return worker_rate_rps(self.rate_rps, self.runner.target_user_count or 0, self.total_users)

    def my_offset_s(self, worker_rate: float) -> float:
        """This worker's schedule offset, seconds (:func:`harness.load.open_model.interleave_offset_s`)."""
        return interleave_offset_s(self.rate_rps, worker_rate, max(self.runner.worker_index, 0)) if self.runner else 0.0

    def seed_scope(self) -> str:
        """What sets this worker's request mix apart from the others': its Locust worker index."""
        return f"worker:{self.runner.worker_index if self.runner else -1}:"

    def connect(self, master_host: str, master_port: int) -> None:
        """Make the worker runner (it connects to the master) and the clock probe that uses it."""
        self.runner = self.env.create_worker_runner(master_host, master_port)
        self.clock = ClockProbe(lambda data: self.runner.send_message("harness_clock", data))
        self.cpu0 = time.process_time()

    def listen(self) -> None:
        """Register the message handlers and the stats listener; then start the greenlets that
        say hello, flush the records and report the requests in flight."""
        # Listeners run in order before the stats message is sent: records always precede the
        # stats report that counts them.
        self.env.events.report_to_master.add_listener(lambda client_id, data: self.flush())
        self.runner.register_message("harness_clock_reply", self.clock.on_reply)
        self.runner.register_message("harness_t0", self.on_t0)
        # concurrent: the stop waits for the users' last requests; the worker keeps receiving meanwhile
        self.runner.register_message("harness_stop", self.on_stop, concurrent=True)
        # Only now may the master answer our probes and send us the start: a message that arrives
        # before its handler is registered is dropped by Locust.
        gevent.spawn(self.hello)
        gevent.spawn(self.flusher)
        gevent.spawn(report_in_flight, self.send_in_flight, self.in_flight, lambda: self.offset_s or 0.0)

    def keep(self, line: str) -> None:
        """The hook's sink: hold ``line`` for the next batch. Back-pressure: once MAX_UNSENT_LINES
        are waiting (the master or the link cannot keep up), the calling user waits up to
        BACKPRESSURE_WAIT_S for a batch to go, so the worker slows down instead of growing
        without bound or dropping records."""
        self.batch.append(line)
        if len(self.batch) >= MAX_UNSENT_LINES and self.offset_s is not None:
            self.drained.clear()
            self.drained.wait(timeout=BACKPRESSURE_WAIT_S)

    def flush(self, **_kw) -> None:
        """Send the batch to the master (``harness_records``), once the clock offset is known. A
        batch Locust could not send (its retries ran out: ``RPCSendError``) is kept, in order, for
        the next flush: nothing is dropped, and the counts at the end say whether it went."""
        if not self.batch or self.offset_s is None:
            return
        batch, self.batch = self.batch, []
        n = sum(1 for line in batch if line.startswith(RECORD_PREFIX))  # records only: acks travel too
        try:
            self.runner.send_message("harness_records", {"n": n, "lines": "".join(batch)})
        except (RPCError, RPCSendError):
            self.batch[:0] = batch
            return
        self.sent += n
        self.drained.set()

    def flusher(self) -> None:
        """Forever (a greenlet): :meth:`flush` every FLUSH_INTERVAL_S."""
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            self.flush()

    def send_in_flight(self, **snapshot) -> None:
        """Send an in-flight snapshot to the master (``harness_inflight``), once the offset is known."""
        if self.offset_s is not None:
            self.runner.send_message("harness_inflight", snapshot)

    def hello(self) -> None:
        """Measure the clock against the master's, then say ``harness_hello`` with the result."""
        report = self.clock.measure()
        if self.clock.offset_s is not None:
            # records of users the master dispatched before the offset was known (a worker that
            # joins a running load), then every later one, move into the master's clock
            self.batch[:] = shift_lines(self.batch, self.clock.offset_s)
            self.hook.offset_s = self.offset_s = self.clock.offset_s
        report.update(hostname=socket.gethostname(), local=bool(os.environ.get(LOCAL_WORKER_ENV)))
        self.runner.send_message("harness_hello", report)
        if self.offset_s is not None:
            gevent.spawn(self.reprobe)

    def reprobe(self) -> None:
        """Forever (a greenlet): every CLOCK_REPROBE_EVERY_S, measure the offset again and move
        the records from then on with it when its round trip is bounded (a clock that drifts or
        steps during the run; :attr:`ClockProbe.drift_ms` says by how much)."""
        while True:
            gevent.sleep(CLOCK_REPROBE_EVERY_S)
            report = self.clock.measure()
            if report["rtt_ms"] is not None and report["rtt_ms"] <= CLOCK_MAX_RTT_MS:
                self.hook.offset_s = self.offset_s = self.clock.offset_s

    def on_t0(self, environment, msg, **_kw) -> None:
        """``harness_t0``: the load starts; the open model's arrivals count from the master's
        t0 to its end, moved into this worker's clock."""
        self.cpu0 = time.process_time()
        if self.arrivals:
            offset_s = self.offset_s or 0.0
            self.arrivals.start(msg.data["t0"] - offset_s, msg.data["end"] - offset_s)

    def on_stop(self, environment, msg, **_kw) -> None:
        """``harness_stop``: stop the arrivals and the users (each finishes its request in flight,
        up to Locust's stop timeout), send the last records, the stats, then ``harness_stopped``."""
        self.in_flight.stopping()
        unsent = self.arrivals.stop() if self.arrivals else 0
        self.runner.stop()  # users finish their request in flight (Locust's stop_timeout)
        self.runner._send_stats()  # flushes the records (report_to_master listener), then the stats
        self.runner.send_message("harness_stopped", {"records": self.sent, "unsent": unsent,
                                                     "killed_in_flight": self.in_flight.killed,
                                                     "clock_drift_ms": self.clock.drift_ms if self.clock else None,
                                                     "cpu_s": round(time.process_time() - self.cpu0, 3)})


def _tied_to_local_master() -> bool:
    """For a worker its master started (LOCAL_WORKER_ENV set): die with the master from now on;
    False when the master already died. True for any other worker."""
    if not os.environ.get(LOCAL_WORKER_ENV):
        return True
    _die_with_parent()
    return str(os.getppid()) == os.environ[LOCAL_WORKER_ENV]


def run_worker(spec: dict, master_host: str, master_port: int) -> int:
    """A worker: measure its clock against the master's, run the users the master dispatches,
    send their records (moved into the master's clock) to the master in batches, answer the
    stop handshake; return the exit code when the master says quit (1: the master that started
    it died before it could be tied to it)."""
    if not _tied_to_local_master():
        return 1
    worker = WorkerSide(spec)
    worker.connect(master_host, master_port)
    worker.listen()
    worker.runner.greenlet.join()
    return 0
