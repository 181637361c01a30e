"""Watch the traffic that crosses the run's Toxiproxy proxies, so analysis can tell whether a
network fault met any request (a toxic that no byte reached changed nothing).

Toxiproxy has no live per-proxy counter: its ``/metrics`` byte counters (``-proxy-metrics``)
are only added when a connection closes, so a pooled keep-alive connection shows nothing until
the end of the run. Two sources are used instead, each journalled as it is read:

- **accepted connections**, from Toxiproxy's own log: every new client connection is logged as
  ``{"name": <proxy>, ..., "message": "Accepted client"}`` (``proxy.go``, level info; the
  default level logs it). The log is followed through the engine's API with timestamps, so this
  works with any engine, local or remote -> ``proxy.accepted`` events
  ``{"t": epoch_s, "since": epoch_s, "accepted": {proxy: count}}``: the connections accepted
  from ``since`` (the first of them) to ``t`` (the last), at most ``ACCEPTED_BATCH_S`` apart;
- **bytes on open connections**, from the kernel: the TCP counters (``bytes_received``, client
  to proxy; ``bytes_acked``, proxy to client) of every established socket on a proxy's listen
  port, read with ``ss -tin`` inside Toxiproxy's network namespace (``nsenter -t PID -n``;
  needs root on the engine's host) every ``SOCKETS_EVERY_S`` -> ``proxy.traffic`` events
  ``{"t", "since", "proxies": {proxy: [up_bytes, down_bytes, open_connections]}}`` with the
  bytes that crossed since the previous reading (a socket first seen counts whole, except in
  the first reading, which only sets the starting point).

Where a source cannot run (no root, a remote engine, a log level above info) it journals
``proxy.watch_unavailable`` with the reason once, and analysis says that it could not see the
traffic (an inconclusive verdict, with the fix) rather than guessing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from datetime import datetime
from typing import Any

from harness.recorder import EventRecorder

SOCKETS_EVERY_S = 0.5
"""Period of the socket readings: a fault window of a second still gets two of them."""
ACCEPTED_BATCH_S = 0.5
"""Accepted connections are counted per proxy and journalled at most this often."""
SS_TIMEOUT_S = 5.0
"""Timeout of one ``nsenter ... ss`` call (it takes a few milliseconds)."""
SS_ATTEMPTS = 3
"""Consecutive failed ``ss`` calls after which the socket readings are given up as unavailable."""
ACCEPTED_MARK = b'"message":"Accepted client"'
"""What Toxiproxy's log line for a new client connection contains (``proxy.go``)."""

_SS_LINE = re.compile(r"^\s*\d+\s+\d+\s+(?P<local>\S+)\s+(?P<peer>\S+)(?P<info>.*)$")
_COUNTER = re.compile(r"\b(bytes_received|bytes_acked):(\d+)")


def listen_port(listen: str) -> int:
    """The port of a proxy's ``listen`` address (``0.0.0.0:18080``, ``[::]:18080``) -> 18080.

    Raises:
        ValueError: no numeric port after the last colon.
    """
    return int(listen.rsplit(":", 1)[1])


def parse_ss(text: str, ports: dict[int, str]) -> dict[tuple[str, str], tuple[str, int, int]]:
    """Established sockets of ``ss -tinHO`` output whose local port is a proxy's listen port:
    ``(local, peer) -> (proxy, bytes_received, bytes_acked)``. Lines of other sockets (the
    proxies' own connections to their upstreams, the API) are left out."""
    out: dict[tuple[str, str], tuple[str, int, int]] = {}
    for line in text.splitlines():
        match = _SS_LINE.match(line)
        if not match:
            continue
        try:
            port = int(match["local"].rsplit(":", 1)[1])
        except (IndexError, ValueError):
            continue
        proxy = ports.get(port)
        if proxy is None:
            continue
        counters = dict(_COUNTER.findall(match["info"]))
        out[(match["local"], match["peer"])] = (proxy, int(counters.get("bytes_received", 0)),
                                                int(counters.get("bytes_acked", 0)))
    return out


def traffic_since(before: dict[tuple[str, str], tuple[str, int, int]] | None,
                  now: dict[tuple[str, str], tuple[str, int, int]], proxies: list[str]) -> dict[str, list[int]]:
    """Per proxy ``[up_bytes, down_bytes, open_connections]`` that crossed between two
    :func:`parse_ss` readings. A socket not in ``before`` counts whole (it opened since); with
    ``before`` None (the first reading) nothing has crossed yet, only connections are counted."""
    out = {name: [0, 0, 0] for name in proxies}
    for key, (proxy, up, down) in now.items():
        row = out.setdefault(proxy, [0, 0, 0])
        row[2] += 1
        if before is None:
            continue
        old = before.get(key)
        old_up, old_down = (old[1], old[2]) if old else (0, 0)
        row[0] += max(0, up - old_up)
        row[1] += max(0, down - old_down)
    return out


def accepted_proxy(line: bytes) -> str | None:
    """The proxy name of a Toxiproxy "Accepted client" log line (after Docker's timestamp), or
    None for any other line."""
    if ACCEPTED_MARK not in line:
        return None
    start = line.find(b"{")
    try:
        return str(json.loads(line[start:])["name"]) if start >= 0 else None
    except (ValueError, KeyError, TypeError):
        return None


def docker_timestamp(line: bytes) -> float | None:
    """Epoch seconds of the RFC 3339 timestamp Docker puts before a log line
    (``2026-12-04T01:37:16.128430642Z ...``), or None."""
    stamp = line.split(b" ", 1)[0].decode("ascii", "replace")
    try:
        return datetime.fromisoformat(stamp[:26].rstrip("Z") + "+00:00").timestamp()
    except ValueError:
        return None


class AcceptedBatch:
    """Connections accepted per proxy between the first (``first_t``) and the last
    (``last_t``) of them, epoch seconds."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.first_t = 0.0
        self.last_t = 0.0

    def add(self, proxy: str, at_t: float) -> None:
        """Count one connection of ``proxy`` accepted at ``at_t``."""
        if not self.counts:
            self.first_t = at_t
        self.counts[proxy] = self.counts.get(proxy, 0) + 1
        self.last_t = max(self.last_t, at_t)


class ProxyWatch:
    """Both readers for one run (see the module docstring).

    Args:
        container: the Docker SDK container running the run's Toxiproxy.
        proxies: proxy name -> its ``listen`` address, as created for the run.
        journal: where readings go.
        pid: Toxiproxy's host PID for the socket readings (None: the readings are unavailable,
            e.g. a remote engine).
    """

    def __init__(self, container: Any, proxies: dict[str, str], journal: EventRecorder, pid: int | None):
        self.container = container
        self.proxies = proxies
        self.ports = {listen_port(listen): name for name, listen in proxies.items()}
        self.journal = journal
        self.pid = pid
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._log_stream: Any = None

    def start(self) -> None:
        """Open Toxiproxy's log stream, then start both readers (daemon threads); a reader that
        cannot run journals why. Opening the stream here, not in its thread, means
        :meth:`stop` always has it to close."""
        try:
            self._log_stream = self.container.logs(stream=True, follow=True, timestamps=True, stdout=True,
                                                   stderr=True, since=int(time.time()))
        except Exception as exc:  # noqa: BLE001 - any engine error: the source is unavailable
            self._unavailable("log", f"cannot follow Toxiproxy's log: {exc}")
        for target in (self._follow_log, self._read_sockets):
            thread = threading.Thread(target=target, name=f"proxy-watch-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop both readers and wait briefly for them; idempotent, never raises."""
        self._stop.set()
        stream, self._log_stream = self._log_stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # closing a half-read HTTP stream may raise anything
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def _unavailable(self, source: str, reason: str) -> None:
        if not self._stop.is_set():
            self.journal.record("proxy.watch_unavailable", source=source, reason=reason)

    # -- accepted connections, from Toxiproxy's log ----------------------------------------

    def _follow_log(self) -> None:
        stream = self._log_stream
        if stream is None:
            return
        batch = AcceptedBatch()
        try:
            for line in _lines(stream):
                if self._stop.is_set():
                    break
                proxy = accepted_proxy(line)
                if proxy is None:
                    continue
                at = docker_timestamp(line) or time.time()
                if batch.counts and at - batch.first_t >= ACCEPTED_BATCH_S:
                    self._journal_batch(batch)
                    batch = AcceptedBatch()
                batch.add(proxy, at)
        except Exception:  # the stream ends when stop() closes it, or the container goes away
            pass
        self._journal_batch(batch)

    def _journal_batch(self, batch: "AcceptedBatch") -> None:
        if not batch.counts:
            return
        try:
            self.journal.record("proxy.accepted", t=batch.last_t, since=batch.first_t, accepted=batch.counts)
        except ValueError:  # the journal is closed already
            pass

    # -- bytes on open connections, from the kernel ----------------------------------------

    def _ss_command(self) -> list[str] | None:
        if self.pid is None:
            self._unavailable("sockets", "Toxiproxy's process is not on this host (remote engine)")
            return None
        if os.geteuid() != 0 or not shutil.which("nsenter") or not shutil.which("ss"):
            self._unavailable("sockets", "reading Toxiproxy's sockets needs root, nsenter and ss on the engine's host")
            return None
        ports = " or ".join(f"sport = :{port}" for port in sorted(self.ports))
        return ["nsenter", "-t", str(self.pid), "-n", "ss", "-tinHO", "state", "established", f"( {ports} )"]

    def _read_sockets(self) -> None:
        command = self._ss_command()
        if command is None or not self.ports:
            return
        before = None
        since = time.time()
        failed = 0
        while not self._stop.is_set():
            try:
                text = subprocess.run(command, capture_output=True, text=True, timeout=SS_TIMEOUT_S,
                                      check=True).stdout
                failed = 0
            except (OSError, subprocess.SubprocessError) as exc:
                failed += 1
                if failed >= SS_ATTEMPTS:
                    self._unavailable("sockets", f"ss in Toxiproxy's namespace failed {failed} times: {exc}")
                    return
                self._stop.wait(SOCKETS_EVERY_S)
                continue
            now_t, now = time.time(), parse_ss(text, self.ports)
            traffic = traffic_since(before, now, sorted(self.proxies))
            try:
                self.journal.record("proxy.traffic", t=now_t, since=since, proxies=traffic, first=before is None)
            except ValueError:  # the journal is closed already
                return
            before, since = now, now_t
            self._stop.wait(SOCKETS_EVERY_S)


def local_pid(client: Any, container: Any) -> int | None:
    """The host PID of ``container``'s main process when the engine runs on this host (its API
    is a local unix socket and ``/proc/<pid>`` exists), else None (a remote engine: the socket
    readings are unavailable there)."""
    base_url = str(getattr(getattr(client, "api", None), "base_url", ""))
    if not base_url.startswith("http+docker://") and "localhost" not in base_url:
        return None
    pid = int((container.attrs.get("State") or {}).get("Pid") or 0)
    return pid if pid > 0 and os.path.isdir(f"/proc/{pid}") else None


def _lines(stream: Any):
    """Whole lines from a Docker log stream that yields chunks of bytes."""
    tail = b""
    for chunk in stream:
        data = tail + chunk
        *lines, tail = data.split(b"\n")
        yield from lines
    if tail:
        yield tail
