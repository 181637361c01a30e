"""The load child's entry point: runs Locust headless and streams one record per request on stdout.

Never imported by the orchestrator (importing locust monkey-patches the process with gevent).
Three roles, one command; this module reads the arguments and the start signal, then hands over
to the role (each built on :mod:`harness.load.child`):

- ``python -m harness.load.worker SPEC.json``: the child the driver starts. With
  ``workers == 0`` and no ``master_bind`` it runs the users itself (Locust ``LocalRunner``,
  :mod:`harness.load.worker_local`); otherwise it is a Locust master that starts ``workers``
  worker processes on this machine (see :mod:`harness.load.distributed`) and streams
  their records.
- ``python -m harness.load.worker --worker HOST:PORT SPEC.json``: a Locust worker that joins the
  master at ``HOST:PORT``, on this machine or on another one (same spec, same locustfile).
- ``python -m harness.load.worker -``: a warm child (:class:`harness.load.driver.WarmChild`),
  spawned before its run is known: it imports Locust, then reads one line ``SPEC.json\tLOG``
  on stdin, points its stderr at ``LOG`` (the run's ``locust.log``) and goes on as the child
  the driver starts. End-of-file first ends it (exit 3), as before ``go``.
- ``python -m harness.load.worker --join HOST:PORT TARGET_URL|- TIMEOUT_S``: a remote worker
  (``harness worker``) with no spec of its own: it fetches the spec and the locustfile from the
  master (:mod:`harness.load.remote`), then runs as ``--worker`` does; ``TARGET_URL`` replaces
  the spec's target (``-``: keep it). Exit 2 when no master answered within ``TIMEOUT_S``.

Protocol on stdout (the parent reads it with :class:`harness.load.stream.StreamReader`), one
line each, written in batches every :data:`harness.load.child.FLUSH_INTERVAL_S`:

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
    :mod:`harness.load.distributed`);
  - ``{"event": "error", "message"}``: the child could not run the load.

Start signal: the child imports Locust and reads its spec, then waits for a line ``go`` on its
stdin before it starts any user (the driver spawns it early, so that its start-up overlaps the
stack's health wait). End-of-file instead of ``go`` (the orchestrator died or gave up) ends the
child with exit code 3 and no request sent. Workers (``--worker``) do not wait: their master
starts them after its own ``go``.

Early stop: SIGUSR1 to a single-process child (``workers`` 0, no ``master_bind``) once its load
started ends the load as its duration would, at once (``harness gameday``'s ``end``;
:meth:`harness.load.LoadDriver.request_stop`); ``stop_requested_t`` is then the signal's time.

The protocol uses a private duplicate of the original stdout; file descriptor 1 and
``sys.stdout`` are pointed at stderr, so a ``print`` in a user's locustfile lands in
``locust.log`` instead of corrupting the stream. Locust's logs go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from locust.log import setup_logging

from harness.load.child import Output, open_model
from harness.load.remote import NoSpec, adopt_spec, fetch_spec
from harness.load.distributed_master import run_master
from harness.load.distributed_worker import run_worker
from harness.load.worker_local import run_local

USAGE = ("usage: python -m harness.load.worker [--worker HOST:PORT] SPEC.json|-\n"
         "       python -m harness.load.worker --join HOST:PORT TARGET_URL|- TIMEOUT_S")


def distributed(spec: dict) -> bool:
    """True when the spec asks for a Locust master and workers."""
    return int(spec.get("workers") or 0) > 0 or bool(spec.get("master_bind"))


def wait_for_go() -> bool:
    """Block until the parent writes ``go`` on stdin (see the module docstring); False when
    stdin ends, or says anything else, first."""
    return sys.stdin.buffer.readline().strip() == b"go"


def parse_args(argv: list[str]) -> tuple[str | None, str] | None:
    """``(master "HOST:PORT" or None, spec path)`` from the command line's arguments (see the
    module docstring), or None when they match neither form."""
    worker_of = None
    if len(argv) == 3 and argv[0] == "--worker":
        worker_of, argv = argv[1], argv[2:]
    if len(argv) != 1:
        return None
    return worker_of, argv[0]


def adopted_spec_path() -> str | None:
    """A warm child's spec path, read from its first stdin line ``SPEC.json\\tLOG`` (see the
    module docstring); stderr is pointed at ``LOG`` first. None when stdin ended first."""
    line = sys.stdin.buffer.readline().decode("utf-8").rstrip("\n")
    if not line:
        return None
    spec_path, _, log_path = line.partition("\t")
    if log_path:
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 2)
        os.close(fd)
    return spec_path


def join(master: str, target_host: str | None, timeout_s: float) -> int:
    """A remote worker: fetch the spec from ``master`` (``HOST:PORT``), then run as a worker of
    that run until the master says quit; return the exit code (0 done, 2 no usable spec;
    messages on stderr)."""
    host, _, port = master.rpartition(":")
    try:
        answer = fetch_spec(host, int(port), timeout_s)
        with tempfile.TemporaryDirectory(prefix="harness-worker-") as tmp:
            spec = adopt_spec(answer, Path(tmp), target_host)
            what = f"locustfile {Path(spec['locustfile']).name}" if spec.get("locustfile") else "request mix"
            print(f"harness worker: joined {master}: target {spec['host']}, {what}, {spec['duration_s']:g} s",
                  file=sys.stderr, flush=True)
            return run_worker(spec, host, int(port))
    except NoSpec as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run_child(spec: dict, spec_path: str, out: Output) -> int:
    """The child the driver starts, once it said ``go``: the local load or the master; returns
    the exit code. Any error is reported to the parent as one ``error`` event (exit code 2)."""
    try:
        if open_model(spec) and spec.get("locustfile"):
            raise ValueError("rate_rps (open model) drives the request mix; it cannot drive a locustfile's own tasks")
        if distributed(spec):
            return run_master(spec, spec_path, out)
        return run_local(spec, out)
    except Exception as exc:  # reported to the parent as one line
        out.event(event="error", message=f"{type(exc).__name__}: {exc}")
        return 2


def main(argv: list[str]) -> int:
    """Entry point (see the module docstring for the arguments); returns the exit code: 2 for
    bad arguments or a failed load, 3 when stdin ends before ``go``."""
    if len(argv) == 4 and argv[0] == "--join":
        setup_logging("INFO")  # to stderr
        return join(argv[1], None if argv[2] == "-" else argv[2], float(argv[3]))
    args = parse_args(argv)
    if args is None:
        print(USAGE, file=sys.stderr)
        return 2
    worker_of, spec_path = args
    if spec_path == "-" and worker_of is None:
        spec_path = adopted_spec_path()
        if spec_path is None:
            print("load child: stdin closed before its spec; no load started", file=sys.stderr)
            return 3
    spec = json.loads(Path(spec_path).read_text())
    out = Output.take_stdout()  # first: nothing (logging config included) may hold the real stdout
    setup_logging("INFO")  # to stderr: locust.log
    if worker_of is not None:
        host, _, port = worker_of.rpartition(":")
        os.close(out.fd)  # a worker talks to its master only
        return run_worker(spec, host, int(port))
    if not wait_for_go():
        print("load child: stdin closed before 'go'; no load started", file=sys.stderr)
        return 3
    return run_child(spec, spec_path, out)


if __name__ == "__main__":
    import gc

    code = main(sys.argv[1:])
    # Everything went out through unbuffered file descriptors; the orchestrator waits for this
    # process to exit, so spare it the interpreter's final garbage collections (Locust, gevent).
    gc.freeze()
    sys.exit(code)
