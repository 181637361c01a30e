"""Distributed load: a Locust master plus workers, with every worker's records merged into the
master's stream (imports locust: only the child processes import this module).

This is Locust's own scale-out machinery (``MasterRunner`` / ``WorkerRunner``, ZeroMQ), with
four custom messages (``runner.register_message`` / ``send_message``) on top:

- ``harness_records`` (worker -> master): ``{"n": count, "lines": "R\\t<record>\\n..."}``, a
  batch of protocol lines, sent every FLUSH_INTERVAL_S and right before each of the worker's
  stats reports. The master appends the block to its stdout as is, so the parent reads one
  stream that looks exactly like a local child's.
- ``harness_hello`` (worker -> master): sent once the worker's handlers are registered; the
  master counts a worker as ready only then (Locust drops a message whose handler is not
  registered yet, and the runner connects before handlers can be registered).
- ``harness_t0`` (master -> worker): ``{"t0": epoch_s, "end": epoch_s}``, the load's start and end, sent before the
  users are dispatched (and in reply to the hello of a worker that joins later): the open
  model's arrivals of every worker count from it.
- ``harness_stop`` / ``harness_stopped``: the end handshake. When the duration is over the master
  asks each worker to stop; a worker stops its users and its arrivals, sends its last records,
  then its final stats report, then ``harness_stopped`` with its own counts. Messages from one
  worker arrive in order, so once every worker answered, the master holds every record and
  every stats report: ``locust_requests`` (Locust's aggregated total) equals the record count.
  Only then does the master write ``stopped`` and quit the workers.

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
from dataclasses import dataclass

import gevent
from locust import events
from locust.env import Environment

from harness.load.open_model import interleave_offset_s, worker_rate_rps
from harness.load.hook import RecordHook
from harness.load.worker import FLUSH_INTERVAL_S, Output, locust_totals, open_model, sleep_until, spawn_rate
from harness.load.worker_users import Arrivals, user_classes

WORKERS_READY_TIMEOUT_S = 45.0
"""How long the master waits for its local workers to connect (each imports locust)."""
STOP_HANDSHAKE_TIMEOUT_S = 20.0
"""How long the master waits for every worker's last records and stats after asking it to stop."""
WORKER_EXIT_TIMEOUT_S = 10.0
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
    """What the master knows about one worker."""

    index: int
    records: int = 0
    locust_requests: int = 0
    unsent: int = 0
    cpu_s: float | None = None
    ready: bool = False
    """Said hello: connected, and its handlers are registered."""
    stopped: bool = False

    def as_event(self) -> dict:
        return {"index": self.index, "records": self.records, "locust_requests": self.locust_requests,
                "unsent": self.unsent, "cpu_s": self.cpu_s}


def _bind(spec: dict) -> tuple[str, int]:
    """Where the master listens: ``master_bind`` (``host:port``), else loopback on a free port."""
    bind = spec.get("master_bind") or "127.0.0.1:0"
    host, _, port = bind.rpartition(":")
    return (host or "127.0.0.1"), int(port)


def _local_connect_host(bind_host: str) -> str:
    """The address local workers dial: loopback for a wildcard bind, else the bound address."""
    return "127.0.0.1" if bind_host in ("*", "0.0.0.0", "::", "[::]") else bind_host


def run_master(spec: dict, spec_path: str, out: Output) -> int:
    """The master: start local workers, wait for them, dispatch users, merge the workers'
    records into ``out``, stop everyone after the duration; return the exit code."""
    env = Environment(user_classes=user_classes(spec, None), events=events, host=spec["host"])
    host, port = _bind(spec)
    runner = env.create_master_runner(master_bind_host=host, master_bind_port=port)
    port = runner.server.port
    out.event(event="master", host=host, port=port)
    workers: dict[str, WorkerCounts] = {}
    t0: float | None = None

    def counts(client_id: str) -> WorkerCounts:
        if client_id not in workers:
            workers[client_id] = WorkerCounts(runner.get_worker_index(client_id))
        return workers[client_id]

    def on_records(environment, msg, **_kw) -> None:
        out.buffer.append(msg.data["lines"])
        counts(msg.node_id).records += msg.data["n"]

    def on_stopped(environment, msg, **_kw) -> None:
        c = counts(msg.node_id)
        c.unsent, c.cpu_s, c.stopped = msg.data["unsent"], msg.data.get("cpu_s"), True

    def on_report(client_id: str, data: dict, **_kw) -> None:
        counts(client_id).locust_requests += data["stats_total"]["num_requests"]

    def on_hello(environment, msg, **_kw) -> None:
        counts(msg.node_id).ready = True
        if t0 is not None:  # a worker joining a running load gets the common start
            runner.send_message("harness_t0", {"t0": t0, "end": t0 + spec["duration_s"]}, client_id=msg.node_id)

    runner.register_message("harness_hello", on_hello)
    runner.register_message("harness_records", on_records)
    runner.register_message("harness_stopped", on_stopped)
    env.events.worker_report.add_listener(on_report)
    gevent.spawn(out.run)

    local = int(spec.get("workers") or 0)
    cmd = [sys.executable, "-m", "harness.load.worker", "--worker", f"{_local_connect_host(host)}:{port}", spec_path]
    env_vars = {**os.environ, LOCAL_WORKER_ENV: str(os.getpid())}
    procs = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=env_vars)
             for _ in range(local)]
    try:
        expected = max(local, 1)
        deadline = time.monotonic() + WORKERS_READY_TIMEOUT_S
        while sum(c.ready for c in workers.values()) < expected:
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
        sleep_until(t0 + spec["duration_s"])

        asked = [c for c, w in workers.items() if w.ready]
        for client_id in asked:
            runner.send_message("harness_stop", None, client_id=client_id)
        deadline = time.monotonic() + STOP_HANDSHAKE_TIMEOUT_S
        while not all(workers[c].stopped for c in asked) and time.monotonic() < deadline:
            gevent.sleep(0.02)
        missing = sorted(workers[c].index for c in asked if not workers[c].stopped)
        out.flush()
        out.event(event="stopped", t=time.time(), records=sum(c.records for c in workers.values()),
                  unsent=sum(c.unsent for c in workers.values()),
                  workers=[c.as_event() for c in sorted(workers.values(), key=lambda c: c.index)],
                  missing_workers=missing, cpu_s=round(time.process_time() - cpu0, 3), **locust_totals(env))
        runner.quit()
        return 0
    finally:
        for p in procs:
            try:
                p.wait(timeout=WORKER_EXIT_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def run_worker(spec: dict, master_host: str, master_port: int) -> int:
    """A worker: run the users the master dispatches, send their records to the master in
    batches, answer the stop handshake; return the exit code when the master says quit."""
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
    scope = lambda: f"worker:{runner.worker_index if runner else -1}:"  # noqa: E731
    env = Environment(user_classes=user_classes(spec, arrivals, scope), events=events, host=spec["host"])
    batch: list[str] = []
    hook = RecordHook(batch.append)
    env.events.request.add_listener(hook)
    runner = env.create_worker_runner(master_host, master_port)
    sent = 0

    def flush(**_kw) -> None:
        nonlocal sent
        if batch:
            lines, n = "".join(batch), len(batch)
            batch.clear()
            runner.send_message("harness_records", {"n": n, "lines": lines})
            sent += n

    def flusher() -> None:
        while True:
            gevent.sleep(FLUSH_INTERVAL_S)
            flush()

    cpu0 = time.process_time()

    def on_t0(environment, msg, **_kw) -> None:
        nonlocal cpu0
        cpu0 = time.process_time()
        if arrivals:
            arrivals.start(msg.data["t0"], msg.data["end"])

    def on_stop(environment, msg, **_kw) -> None:
        unsent = arrivals.stop() if arrivals else 0
        runner.stop()
        runner._send_stats()  # flushes the records (report_to_master listener), then the stats
        runner.send_message("harness_stopped", {"records": sent, "unsent": unsent,
                                                "cpu_s": round(time.process_time() - cpu0, 3)})

    # Listeners run in order before the stats message is sent: records always precede the stats
    # report that counts them.
    env.events.report_to_master.add_listener(lambda client_id, data: flush())
    runner.register_message("harness_t0", on_t0)
    runner.register_message("harness_stop", on_stop)
    # Only now may the master send us the start: a message that arrives before its handler is
    # registered is dropped by Locust.
    runner.send_message("harness_hello", None)
    gevent.spawn(flusher)
    runner.greenlet.join()
    return 0
