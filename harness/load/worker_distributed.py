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
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import gevent
import gevent.event
from locust.env import Environment
from locust.exception import RPCError, RPCSendError
from locust.runners import STATE_MISSING

from harness.load.child import (FLUSH_INTERVAL_S, Output, environment, locust_totals, open_model, report_in_flight,
                                spawn_rate)
from harness.load.clock import (CLOCK_MAX_RTT_MS, CLOCK_PROBE_TIMEOUT_S, CLOCK_PROBES, CLOCK_REPROBE_EVERY_S,
                                ClockSample, best_sample, clock_refusal, clock_report, shift_lines)
from harness.load.hook import RecordHook
from harness.load.inflight import IN_FLIGHT_EVERY_S, InFlight, merge_snapshots
from harness.load.open_model import interleave_offset_s, worker_rate_rps
from harness.load.records import RECORD_PREFIX
from harness.load.remote import serve_spec
from harness.load.timeouts import WORKER_EXIT_TIMEOUT_S, stop_handshake_timeout_s
from harness.load.worker_users import Arrivals

WORKERS_READY_TIMEOUT_S = 45.0
"""How long the master waits for its local workers to connect (each imports locust)."""
MAX_UNSENT_LINES = 200_000
"""Lines a worker holds for its master before its users wait (back-pressure): about 12 MB of
60-byte records, 50 s of one core's FastHttpUser load (docs/scale-out.md, sizing)."""
BACKPRESSURE_WAIT_S = 1.0
"""The longest one user waits for a batch to go before its next request."""
LOST_CHECK_EVERY_S = 0.5
"""How often the master looks for workers Locust stopped hearing. Locust marks a worker
``missing`` after HEARTBEAT_LIVENESS (3) heartbeat intervals of 1 s without one, so a killed
worker is noted 3-4.5 s after its last heartbeat."""
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
    hostname: str | None = None
    remote: bool = False
    """Joined on its own (``harness worker``), not started by this master."""
    clock_drift_ms: float | None = None
    """The last re-measured offset minus the offset at hello (ms), from the worker's ``harness_stopped``."""
    lost_t: float | None = None
    """When the master found it had stopped answering mid-run (epoch s), or None."""
    ready: bool = False
    """Said hello with a bounded clock offset: connected, and its handlers are registered."""
    stopped: bool = False

    def as_event(self) -> dict:
        """The worker's entry in the ``stopped`` event's ``workers`` list."""
        return {"index": self.index, "records": self.records, "locust_requests": self.locust_requests,
                "unsent": self.unsent, "killed_in_flight": self.killed_in_flight, "cpu_s": self.cpu_s,
                "clock_offset_ms": self.clock_offset_ms, "rtt_ms": self.rtt_ms, "clock_drift_ms": self.clock_drift_ms,
                "hostname": self.hostname, "remote": self.remote, "lost_t": self.lost_t}


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


class MasterSide:
    """The master's side of the custom messages (see the module docstring): what it knows of
    each worker, why it refuses a worker's clock, and the load's common start.

    Args:
        spec: the load spec (``duration_s``, seconds).
        runner: Locust's ``MasterRunner``; only ``send_message``, ``register_message`` and
            ``get_worker_index`` are used here.
        out: the protocol channel; the workers' record batches go into its buffer as they are.
    """

    def __init__(self, spec: dict, runner, out: Output) -> None:
        self.spec, self.runner, self.out = spec, runner, out
        self.workers: dict[str, WorkerCounts] = {}
        """By Locust client id, in the order the master first heard of them."""
        self.refusals: list[str] = []
        """Why a worker's clock offset cannot be bounded (:func:`harness.load.clock.clock_refusal`)."""
        self.t0: float | None = None
        """The load's start, epoch s (master clock); None until it starts."""

    def listen(self, env: Environment) -> None:
        """Register the message handlers on the runner and the stats listener on ``env``."""
        self.runner.register_message("harness_clock", self.on_clock)
        self.runner.register_message("harness_hello", self.on_hello)
        self.runner.register_message("harness_records", self.on_records)
        self.runner.register_message("harness_inflight", self.on_in_flight)
        self.runner.register_message("harness_stopped", self.on_stopped)
        env.events.worker_report.add_listener(self.on_report)

    def counts(self, client_id: str) -> WorkerCounts:
        """The worker's counts, made (with its Locust worker index) when first heard of."""
        if client_id not in self.workers:
            self.workers[client_id] = WorkerCounts(self.runner.get_worker_index(client_id))
        return self.workers[client_id]

    def ready_ids(self) -> list[str]:
        """Client ids of the workers that said hello with a bounded clock offset."""
        return [c for c, w in self.workers.items() if w.ready]

    def send_t0(self, client_id: str) -> None:
        """Send one worker ``harness_t0``: the load's start and end (epoch s, master clock)."""
        self.runner.send_message("harness_t0", {"t0": self.t0, "end": self.t0 + self.spec["duration_s"]},
                                 client_id=client_id)

    def on_clock(self, environment, msg, **_kw) -> None:
        """``harness_clock``: answer the probe with this clock on receipt (t2) and on reply (t3)."""
        t2 = time.time()
        self.runner.send_message("harness_clock_reply", {"t1": msg.data["t1"], "t2": t2, "t3": time.time()},
                                 client_id=msg.node_id)

    def on_hello(self, environment, msg, **_kw) -> None:
        """``harness_hello``: note the worker's clock; refuse it (:attr:`refusals`) or count it
        as ready, and send a worker joining a running load the common start."""
        c = self.counts(msg.node_id)
        report = msg.data or {}
        c.clock_offset_ms, c.rtt_ms = report.get("clock_offset_ms"), report.get("rtt_ms")
        c.hostname, c.remote = report.get("hostname"), not report.get("local", False)
        refusal = clock_refusal(c.index, report)
        if refusal:
            self.refusals.append(refusal)
            return
        c.ready = True
        if self.t0 is not None:
            self.send_t0(msg.node_id)

    def on_records(self, environment, msg, **_kw) -> None:
        """``harness_records``: append the batch to the output as is and count its records."""
        self.out.buffer.append(msg.data["lines"])
        self.counts(msg.node_id).records += msg.data["n"]

    def on_in_flight(self, environment, msg, **_kw) -> None:
        """``harness_inflight``: keep the worker's latest snapshot."""
        self.counts(msg.node_id).in_flight = msg.data

    def on_stopped(self, environment, msg, **_kw) -> None:
        """``harness_stopped``: the worker's final counts; it has stopped."""
        c = self.counts(msg.node_id)
        c.unsent, c.cpu_s, c.stopped = msg.data["unsent"], msg.data.get("cpu_s"), True
        c.killed_in_flight = msg.data.get("killed_in_flight", 0)
        c.clock_drift_ms = msg.data.get("clock_drift_ms")

    def on_report(self, client_id: str, data: dict, **_kw) -> None:
        """Locust's ``worker_report`` event: add the report's requests to the worker's total."""
        self.counts(client_id).locust_requests += data["stats_total"]["num_requests"]

    def ready_counts(self) -> tuple[int, int]:
        """``(local, remote)``: how many ready workers this master started, and how many joined
        on their own."""
        ready = [w for w in self.workers.values() if w.ready]
        return sum(not w.remote for w in ready), sum(w.remote for w in ready)

    def note_lost(self, out: Output, now_s: float) -> None:
        """Mark every ready worker that Locust no longer hears (``missing`` state, or removed
        after its heartbeats stopped) as lost, once, with a ``worker_lost`` event each."""
        for client_id, w in self.workers.items():
            if not w.ready or w.stopped or w.lost_t is not None:
                continue
            node = self.runner.clients.get(client_id)
            if node is None or node.state == STATE_MISSING:
                w.lost_t = now_s
                out.event(event="worker_lost", t=now_s, index=w.index, hostname=w.hostname, remote=w.remote,
                          records=w.records)

    def lost(self) -> list[dict]:
        """``[{"index", "hostname", "remote", "t", "records"}]`` of the workers lost mid-run."""
        return [{"index": w.index, "hostname": w.hostname, "remote": w.remote, "t": w.lost_t, "records": w.records}
                for w in sorted(self.workers.values(), key=lambda w: w.index) if w.lost_t is not None]

    def missing(self, client_ids: list[str]) -> list[int]:
        """Worker indexes, sorted, of those among ``client_ids`` that have not stopped."""
        return sorted(self.workers[c].index for c in client_ids if not self.workers[c].stopped)

    def stopped_fields(self) -> dict:
        """The ``stopped`` event's sums over the workers (``records``, ``unsent``,
        ``killed_in_flight``) and its ``workers`` list, by worker index."""
        workers = self.workers.values()
        return {"records": sum(c.records for c in workers), "unsent": sum(c.unsent for c in workers),
                "killed_in_flight": sum(c.killed_in_flight for c in workers),
                "workers": [c.as_event() for c in sorted(workers, key=lambda c: c.index)],
                "lost_workers": self.lost()}


def run_master(spec: dict, spec_path: str, out: Output) -> int:
    """The master: start local workers, wait for them (and their clock measurement), dispatch
    users, merge the workers' records into ``out``, stop everyone after the duration; return
    the exit code.

    Raises:
        Refused: a worker's clock offset cannot be bounded (before or during the load).
        RuntimeError: a local worker died or not every worker joined in time.
    """
    env = environment(spec, None, InFlight())
    # Locust's master sends its host with every spawn message and the workers put it on their user
    # classes; with none, each worker keeps its own spec's (a remote worker's --host).
    env.host = None
    host, port = _bind(spec)
    runner = env.create_master_runner(master_bind_host=host, master_bind_port=port)
    port = runner.server.port
    out.event(event="master", host=host, port=port)
    master = MasterSide(spec, runner, out)
    master.listen(env)
    serve_spec(runner, spec)
    gevent.spawn(out.run)
    procs = start_local_workers(int(spec.get("workers") or 0), f"{_local_connect_host(host)}:{port}", spec_path)
    try:
        wait_for_workers(master, procs)
        drive(master, env)
    finally:
        runner.quit()  # also when refused or failed: no worker (remote ones included) keeps loading the target
        reap_local_workers(procs)
    return 0


def start_local_workers(count: int, master_address: str, spec_path: str) -> list[subprocess.Popen]:
    """Start ``count`` worker processes on this machine (``python -m harness.load.worker
    --worker master_address spec_path``), tied to this process by LOCAL_WORKER_ENV."""
    cmd = [sys.executable, "-m", "harness.load.worker", "--worker", master_address, spec_path]
    env_vars = {**os.environ, LOCAL_WORKER_ENV: str(os.getpid())}
    return [subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env_vars)
            for _ in range(count)]


def wait_for_workers(master: MasterSide, procs: list[subprocess.Popen]) -> None:
    """Wait until every worker started locally (at least one when nothing else is expected) and
    ``remote_workers`` more from other hosts are ready: the local ones within
    WORKERS_READY_TIMEOUT_S, the remote ones within the spec's ``join_timeout_s``.

    Raises:
        Refused: a worker's clock offset cannot be bounded.
        RuntimeError: a local worker exited, or a timeout went by (the message says how many
            of each kind joined and how a remote worker joins).
    """
    local, remote = len(procs), int(master.spec.get("remote_workers") or 0)
    remote_timeout_s = float(master.spec.get("join_timeout_s") or WORKERS_READY_TIMEOUT_S)
    if not local and not remote:  # master_bind alone: whichever worker joins first
        remote, remote_timeout_s = 1, WORKERS_READY_TIMEOUT_S
    start = time.monotonic()
    while True:
        ready_local, ready_remote = master.ready_counts()
        if ready_local >= local and ready_remote >= remote:
            return
        if master.refusals:
            raise Refused(master.refusals[0])
        dead = [p.returncode for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a local worker exited with {dead[0]} before joining (see locust.log)")
        waited_s = time.monotonic() - start
        if ready_local < local and waited_s > WORKERS_READY_TIMEOUT_S:
            raise RuntimeError(f"{ready_local} of {local} local workers joined within {WORKERS_READY_TIMEOUT_S:.0f} s")
        if waited_s > remote_timeout_s:
            raise RuntimeError(f"{ready_remote} of {remote} remote workers joined within {remote_timeout_s:.0f} s "
                               "(load.workers.join_timeout_s); start each on its host with: harness worker "
                               f"--master <an address of this host>:{master.runner.server.port}")
        gevent.sleep(0.05)


def watch_lost(master: MasterSide) -> None:
    """Forever (a greenlet): every LOST_CHECK_EVERY_S, note the workers Locust stopped hearing
    (:meth:`MasterSide.note_lost`)."""
    while True:
        gevent.sleep(LOST_CHECK_EVERY_S)
        master.note_lost(master.out, time.time())


def drive(master: MasterSide, env: Environment) -> None:
    """Send every ready worker the common start, dispatch the users, wait out the duration, run
    the stop handshake; writes the ``started``, ``inflight`` and ``stopped`` events.

    Raises:
        Refused: a worker that joined during the load has an unbounded clock offset.
    """
    spec, runner, out = master.spec, master.runner, master.out
    master.t0, cpu0 = time.time(), time.process_time()
    for client_id in master.ready_ids():
        master.send_t0(client_id)
    gevent.spawn(runner.start, spec["users"], spawn_rate(spec))
    out.event(event="started", t=master.t0, workers=runner.worker_count)
    reporter = gevent.spawn(report_merged_in_flight, out, master.workers)
    watcher = gevent.spawn(watch_lost, master)
    sleep_until_or_refused(master.t0 + spec["duration_s"], master.refusals)
    stop_requested_t = time.time()
    watcher.kill()
    master.note_lost(out, stop_requested_t)
    asked = stop_workers(master)
    reporter.kill()
    missing = master.missing(asked)
    out.flush()
    out.event(event="stopped", t=time.time(), stop_requested_t=stop_requested_t, **master.stopped_fields(),
              missing_workers=missing, cpu_s=round(time.process_time() - cpu0, 3), **locust_totals(env))


def stop_workers(master: MasterSide) -> list[str]:
    """Ask every ready worker to stop (``harness_stop``) and wait for their ``harness_stopped``,
    at most :func:`harness.load.timeouts.stop_handshake_timeout_s`; return the ids asked."""
    asked = [c for c in master.ready_ids() if master.workers[c].lost_t is None]
    for client_id in asked:
        master.runner.send_message("harness_stop", None, client_id=client_id)
    deadline = time.monotonic() + stop_handshake_timeout_s(master.spec["request_timeout_s"])
    while not all(master.workers[c].stopped for c in asked) and time.monotonic() < deadline:
        gevent.sleep(0.02)
    return asked


def reap_local_workers(procs: list[subprocess.Popen]) -> None:
    """Wait for each local worker to exit, up to WORKER_EXIT_TIMEOUT_S each; kill a late one."""
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
