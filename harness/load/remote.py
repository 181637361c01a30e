"""Remote workers: a Locust worker on another host fetches the run's load spec from the master,
then joins it like a local worker (``harness worker --master HOST:PORT``, which runs
``python -m harness.load.worker --join HOST:PORT TARGET_URL|- TIMEOUT_S``: :mod:`harness.load.worker`).

The remote host needs harness installed, nothing else: no scenario file, no locustfile. Before
its Locust worker connects, it asks the master for the spec over Locust's own ZeroMQ channel:

- the worker sends ``harness_spec`` (no data) from a throw-away identity (``spec-<host>-<uuid>``);
- the master answers ``harness_spec`` with the spec the run's own child read, plus the
  locustfile's source (``locustfile_source``; a locustfile that imports modules of its own
  needs them on the worker's host too) and ``master_clock_s``, its clock when it answered.

The master handles the request ahead of Locust's dispatcher (:func:`serve_spec` wraps
``MasterRunner.handle_message``), so the throw-away identity never takes a worker index. The
worker then writes the locustfile into a private directory, replaces the spec's target URL when
the target is reached at another address from its host (``--host``), and runs as any worker
(clock probes, records moved into the master's clock, the stop handshake).

A worker serves one run: it exits when its master says quit (exit 0). Exit 2: no spec within
the timeout (no master at that address, or not one of ours), or an unusable spec.

Imports locust: only the worker's own process imports this module.
"""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path

import gevent
from locust.rpc import Message, rpc

SPEC_REQUEST = "harness_spec"
"""The message type of the spec request and of the master's answer."""
SPEC_RETRY_S = 2.0
"""How long a worker waits for one answer before it asks again (a master not started yet)."""


class NoSpec(RuntimeError):
    """No master answered with a spec in time, or its answer cannot be used."""


def spec_for_remote(spec: dict) -> dict:
    """What the master sends a remote worker: ``spec`` with the locustfile's source text in
    ``locustfile_source`` (None without a locustfile) and the master's clock in ``master_clock_s``.

    Raises:
        OSError: the locustfile cannot be read.
    """
    source = Path(spec["locustfile"]).read_text(encoding="utf-8") if spec.get("locustfile") else None
    return {**spec, "locustfile_source": source, "master_clock_s": time.time()}


def serve_spec(runner, spec: dict) -> None:
    """Make ``runner`` (Locust's ``MasterRunner``) answer every ``harness_spec`` request with
    :func:`spec_for_remote`, ahead of Locust's own messages; every other message goes on to
    Locust as before."""
    locust_handle = runner.handle_message

    def handle_message(client_id: str, msg: Message) -> None:
        if msg.type != SPEC_REQUEST:
            locust_handle(client_id, msg)
            return
        runner.server.send_to_client(Message(SPEC_REQUEST, spec_for_remote(spec), client_id))

    runner.handle_message = handle_message


def fetch_spec(master_host: str, master_port: int, timeout_s: float) -> dict:
    """Ask the master at ``master_host:master_port`` for the run's spec; keep asking every
    SPEC_RETRY_S until ``timeout_s`` seconds have gone by (the worker may start first).

    Raises:
        NoSpec: no answer in time.
    """
    identity = f"spec-{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    client = rpc.Client(master_host, master_port, identity)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            client.send(Message(SPEC_REQUEST, None, identity))
            with gevent.Timeout(min(SPEC_RETRY_S, max(deadline - time.monotonic(), 0.1)), False):
                msg = client.recv()
                if msg.type == SPEC_REQUEST and isinstance(msg.data, dict):
                    return msg.data
    finally:
        client.close(linger=0)
    raise NoSpec(f"no harness master answered at {master_host}:{master_port} within {timeout_s:.0f} s "
                 "(is the run started, with load.master_bind on an address this host reaches?)")


def adopt_spec(answer: dict, workdir: Path, target_host: str | None) -> dict:
    """The spec this worker runs: the master's ``answer`` (:func:`spec_for_remote`) with its
    locustfile written into ``workdir`` and, when given, ``target_host`` (``http(s)://host:port``)
    as the target URL.

    Raises:
        NoSpec: the answer has no target URL or users.
    """
    spec = {k: v for k, v in answer.items() if k not in ("locustfile_source", "master_clock_s")}
    if not spec.get("host") or not spec.get("users"):
        raise NoSpec("the master's answer has no target URL or users: not a harness run's master?")
    if answer.get("locustfile_source") is not None:
        path = workdir / Path(spec["locustfile"]).name
        path.write_text(answer["locustfile_source"], encoding="utf-8")
        spec["locustfile"] = str(path)
    if target_host:
        spec["host"] = target_host.rstrip("/")
    return spec
