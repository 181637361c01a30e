"""Distributed load: a Locust master plus workers, with every worker's records merged into the
master's stream. This module is the protocol between them; the master's side is
:mod:`harness.load.distributed_master`, a worker's :mod:`harness.load.distributed_worker`
(both import locust: only the child processes import them).

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

LOCAL_WORKER_ENV = "HARNESS_LOAD_LOCAL_WORKER"
"""Set by the master on the workers it starts: they die with it (``PR_SET_PDEATHSIG``) instead
of loading the target until Locust's 60 s heartbeat timeout; a worker without it is remote."""
