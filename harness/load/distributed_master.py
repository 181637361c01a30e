"""The master's side of the distributed load (:mod:`harness.load.distributed`): start the local
workers, wait for every worker (local and remote) and its clock, give the common start, merge
the workers' records into the load child's stream, notice a worker lost mid-run, and run the
stop handshake. Imports locust: only the load child imports this module."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import gevent
from locust.env import Environment
from locust.runners import STATE_MISSING

from harness.load.child import Output, environment, locust_totals, spawn_rate
from harness.load.clock import clock_refusal
from harness.load.distributed import LOCAL_WORKER_ENV
from harness.load.inflight import IN_FLIGHT_EVERY_S, InFlight, merge_snapshots
from harness.load.remote import serve_spec
from harness.load.timeouts import WORKER_EXIT_TIMEOUT_S, stop_handshake_timeout_s

WORKERS_READY_TIMEOUT_S = 45.0
"""How long the master waits for its local workers to connect (each imports locust)."""
LOST_CHECK_EVERY_S = 0.5
"""How often the master looks for workers Locust stopped hearing. Locust marks a worker
``missing`` after HEARTBEAT_LIVENESS (3) heartbeat intervals of 1 s without one, so a killed
worker is noted 3-4.5 s after its last heartbeat."""


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
