"""Start the Locust child, collect its record stream, and keep live per-second counters.

The child's records are appended to the journal's ``requests.tsv`` as they arrive (parsed by
:class:`harness.load.stream.StreamReader` straight off the pipe). Counters per whole second feed
the progress display (and, later, live abort conditions). The same stream comes from a single
Locust process or from a Locust master merging its workers' records
(:mod:`harness.load.distributed`): the driver cannot tell them apart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from harness.errors import EnvironmentFailure
from harness.load.stream import LiveStats, StreamReader
from harness.load.timeouts import child_end_grace_s, stop_timeout_s

STARTUP_TIMEOUT_S = 60
"""How long the child may take to import locust, start its workers (if any) and its users."""
READ_CHUNK_BYTES = 1 << 16
READER_DRAIN_S = 5.0
"""After the child exited, how long its remaining output may take to be read."""

STOP_SUMMARY_KEYS = ("locust_requests", "locust_failures", "locust_p50_ms", "locust_p95_ms", "locust_p99_ms",
                     "records", "unsent", "killed_in_flight", "killed_after_stop", "stop_requested_t", "cpu_s", "workers",
                     "missing_workers", "lost_workers")
"""Fields of the child's ``stopped`` event that :meth:`LoadDriver.stop_summary` passes on."""


@dataclass(frozen=True)
class LoadSpec:
    """What the child runs (JSON-serialised to it). Units as in :class:`harness.scenario.Load`;
    ``host`` is already resolved to a reachable address; ``seed`` drives the request mix.

    ``rate_rps`` (open model, see :mod:`harness.load.open_model`) replaces think time with a
    fixed arrival rate, ``users`` then bounds the requests in flight; ``client`` is
    ``requests`` (HttpUser) or ``fast`` (FastHttpUser); ``workers`` > 0 or ``master_bind``
    runs a Locust master with that many local worker processes; ``remote_workers`` more join
    from other hosts at ``master_bind`` (``host:port``), waited for up to ``join_timeout_s``
    seconds (:mod:`harness.load.distributed`)."""

    host: str
    users: int
    spawn_rate: float
    duration_s: float
    think_time_s: tuple[float, float]
    request_timeout_s: float
    seed: int
    requests: list[dict] = field(default_factory=list)
    locustfile: str | None = None
    rate_rps: float | None = None
    client: str = "requests"
    workers: int = 0
    master_bind: str | None = None
    remote_workers: int = 0
    join_timeout_s: float = 120.0

    @property
    def model(self) -> str:
        """``open`` (fixed arrival rate) or ``closed`` (users with think time)."""
        return "open" if self.rate_rps else "closed"

    @property
    def stop_timeout_s(self) -> float:
        """Seconds a user may keep its last request in flight after the duration (Locust's
        ``stop_timeout``, :func:`harness.load.timeouts.stop_timeout_s`)."""
        return stop_timeout_s(self.request_timeout_s)


CHILD_COMMAND = [sys.executable, "-m", "harness.load.worker"]
"""The load child's argv without its spec path (:mod:`harness.load.worker`)."""


def _popen(argv: list[str], stderr: object) -> subprocess.Popen:
    """The load child (or a warm one): its stdout is the record stream, its stdin the start
    signal (see :mod:`harness.load.worker`), in a session of its own (a Ctrl-C reaches the
    orchestrator, which stops the child and its workers)."""
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.PIPE,
                            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


class WarmChild:
    """A load child spawned before its run is known (``python -m harness.load.worker -``): it
    imports Locust, then waits for its spec. A sweep on a shared stack spawns one as soon as a
    cell's load is over, and the next cell's :meth:`LoadDriver.spawn` adopts it, so the
    imports (about 0.8 s of one core here, ``bench/sweep_shared.py``) overlap the cell's
    teardown and report instead of delaying the next cell's load (a shared stack has no health
    wait to hide them).

    Nothing is left: :meth:`discard` (or this process's death, which closes the child's stdin)
    ends an unused child before it sends anything."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = _popen([*CHILD_COMMAND, "-"], subprocess.DEVNULL)

    def adopt(self, spec_path: Path, log_path: Path) -> subprocess.Popen | None:
        """Hand the child its run: ``spec_path`` and the ``log_path`` its stderr goes to from
        now on. Returns the child's process (the caller owns it from now on, stdin still open
        for ``go``), or None when the child has already exited or its stdin is gone."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None or proc.stdin is None:
            return None
        try:
            proc.stdin.write(f"{spec_path}\t{log_path}\n".encode())
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            _end(proc)
            return None
        return proc

    def discard(self) -> None:
        """End an unadopted child (its stdin closed: it exits 3 without a request; SIGKILL
        after 5 s); idempotent, never raises."""
        proc, self.proc = self.proc, None
        if proc is not None:
            _end(proc)


def _end(proc: subprocess.Popen) -> None:
    """End a warm child that has no run: its stdin closed (it exits 3 without a request), SIGKILL
    after 5 s; its pipes closed."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


class LoadDriver:
    """Runs one load child process.

    Args:
        spec: the load to run.
        run_dir: ``load.json`` (the spec), ``locust.log`` (child stderr) and the records file
            (``requests.tsv``) are written here.
        command: the child's argv without the spec path (default: this Python running
            ``harness.load.worker``); tests put a fake child here.
        redact: masks secrets in ``load.json`` (the child then reads a private temporary copy).

    Acknowledged writes (``ack`` events) are appended to ``acked.tsv`` for the read-back.
    """

    def __init__(self, spec: LoadSpec, run_dir: Path, command: list[str] | None = None,
                 redact: Callable[[str], str] = lambda text: text):
        self.spec = spec
        self.command = command or CHILD_COMMAND
        self.run_dir = run_dir
        self.records_path = run_dir / "requests.tsv"
        self.acked_path = run_dir / "acked.tsv"
        self.redact = redact
        self._private_spec: Path | None = None
        self.stats = LiveStats()
        self.started_at: float | None = None
        self.started: dict | None = None
        self.stopped: dict | None = None
        self.master: dict | None = None
        self.error: str | None = None
        self._stream: StreamReader | None = None
        self.reader_cpu_s: float | None = None
        """CPU seconds the reader thread spent parsing and writing the stream."""
        self._started = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def spawn(self, warm: WarmChild | None = None) -> None:
        """Start the child process without starting the load; idempotent.

        The child imports Locust and reads its spec, then blocks until :meth:`start` writes
        ``go`` on its stdin. The orchestrator spawns it while the stack's health wait runs, so
        the child's start-up (about half a second of imports) overlaps that wait instead of
        adding to the run. If this process dies first, the child reads end-of-file instead of
        ``go`` and exits without sending a request.

        ``warm``: a :class:`WarmChild` spawned earlier (a sweep's next cell on a shared stack,
        which has no health wait to hide the imports behind); it is given this run's spec and
        ``locust.log`` instead of a new process being started. A warm child that has exited,
        or a driver with its own ``command``, starts a new one (the warm one is discarded).
        """
        if self._proc is not None:
            return
        text = json.dumps(asdict(self.spec), indent=2)
        spec_path = self.run_dir / "load.json"
        spec_path.write_text(self.redact(text))
        if self.redact(text) != text:  # secrets (e.g. headers): the child reads a private copy
            fd, private = tempfile.mkstemp(prefix="harness-load-", suffix=".json")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            spec_path = self._private_spec = Path(private)
        proc = warm.adopt(spec_path, self.run_dir / "locust.log") if warm and self.command == CHILD_COMMAND else None
        if warm is not None:
            warm.discard()  # one not adopted ends here (a no-op once adopted)
        if proc is None:
            with (self.run_dir / "locust.log").open("ab") as stderr:
                proc = _popen([*self.command, str(spec_path)], stderr)
        self._proc = proc
        self._reader = threading.Thread(target=self._read, name="load-reader", daemon=True)
        self._reader.start()

    def start(self) -> float:
        """Start the load (spawning the child first if :meth:`spawn` was not called) and wait
        until its users are spawning; return that time (epoch s), the load's t0 that fault
        offsets count from.

        Raises:
            EnvironmentFailure: the child failed or did not start within STARTUP_TIMEOUT_S.
        """
        self.spawn()
        assert self._proc is not None and self._proc.stdin is not None
        try:
            self._proc.stdin.write(b"go\n")
            self._proc.stdin.close()
        except (BrokenPipeError, OSError):  # the child is gone already: its error comes from the stream
            pass
        started = self._started.wait(self.startup_timeout_s)
        if self._private_spec is not None:
            self._private_spec.unlink(missing_ok=True)  # the child has read it by now
        if not started or self.started_at is None:
            self.stop()
            raise EnvironmentFailure(self.error or f"load child did not start within {self.startup_timeout_s:.0f} s "
                                     "(see locust.log)")
        return self.started_at

    @property
    def startup_timeout_s(self) -> float:
        """How long :meth:`start` waits for the load to start, seconds: STARTUP_TIMEOUT_S, plus
        the remote workers' ``join_timeout_s`` when the spec waits for some."""
        return STARTUP_TIMEOUT_S + (self.spec.join_timeout_s if self.spec.remote_workers else 0.0)

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        pipe = self._proc.stdout
        try:
            with self.records_path.open("a", encoding="utf-8") as records:
                reader = self._stream = StreamReader(records, self.stats, self._on_event)
                while chunk := pipe.read1(READ_CHUNK_BYTES):
                    reader.feed(chunk)
                reader.close()
                self.reader_cpu_s = time.thread_time()
        finally:
            self._started.set()

    def _on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "started":
            self.started = event
            self.started_at = float(event["t"])
            self._started.set()
        elif kind == "inflight":
            self.stats.set_in_flight(event)
        elif kind == "stopped":
            self.stopped = event
            self.stats.set_in_flight({})
        elif kind == "master":
            self.master = event
        elif kind == "error":
            self.error = f"load child: {event.get('message')}"
            self._started.set()
        elif kind == "ack":  # an acknowledged write, for the read-back (no_data_loss)
            with self.acked_path.open("a", encoding="utf-8") as acked:
                acked.write(f"{event.get('name')}\t{event.get('id')}\n")

    @property
    def garbage_lines(self) -> int:
        """Lines of the child's stream so far that were neither records nor events (skipped)."""
        return self._stream.garbage if self._stream is not None else 0

    @property
    def pid(self) -> int | None:
        """The child's process id once spawned (it leads its own process group), else None."""
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def end_grace_s(self) -> float:
        """How long the child may take to end after its scheduled end, seconds: its users'
        stop timeout (their last requests), the master's stop handshake, the workers' exit
        (:func:`harness.load.timeouts.child_end_grace_s`)."""
        return child_end_grace_s(self.spec.request_timeout_s)

    def wait(self, timeout_s: float) -> None:
        """Wait for the child to finish its duration and for every record to be read.

        Args:
            timeout_s: how long to wait, seconds; never less than :attr:`end_grace_s`, so that
                a caller's fixed grace cannot kill requests the child is still allowed to end.

        Raises:
            EnvironmentFailure: it did not finish in time (it is then stopped) or failed.
        """
        assert self._proc is not None
        timeout_s = max(timeout_s, self.end_grace_s)
        try:
            self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            raise EnvironmentFailure(f"load child did not finish within {timeout_s:.0f} s of its end") from None
        if self._reader:
            self._reader.join(timeout=READER_DRAIN_S)
            if self._reader.is_alive():  # something left in the child's group holds the pipe open
                self._kill_group()
                self._reader.join(timeout=READER_DRAIN_S)
        if self._proc.returncode != 0 or self.stopped is None:
            raise EnvironmentFailure(self.error or f"load child exited with {self._proc.returncode} (see locust.log)")

    def stop_summary(self) -> dict:
        """What the journal's ``load.stop`` keeps, so the analysis can tell ``recorded !=
        sent``: the load model and ``stop_timeout_s``; ``garbage_lines``, lines of the stream
        that were neither records nor events (parsed so far); and from the child's ``stopped``
        event (None where unknown) Locust's own totals and rounded percentiles
        (``locust_requests`` ...), the child's own record count (``records``), unsent
        open-model arrivals (``unsent``), requests killed in flight at the stop timeout
        (``killed_in_flight``), when the users were asked to stop (``stop_requested_t``, epoch
        s) and per-worker counts and clocks (``workers``). Our own count of records received
        is ``stats.requests``, journalled beside as ``recorded``."""
        stopped = self.stopped or {}
        summary: dict = {"model": self.spec.model, "rate_rps": self.spec.rate_rps, "client": self.spec.client,
                         "workers_requested": self.spec.workers,
                         "remote_workers_requested": self.spec.remote_workers, "stop_timeout_s": self.spec.stop_timeout_s,
                         "garbage_lines": self.garbage_lines}
        summary.update({key: stopped.get(key) for key in STOP_SUMMARY_KEYS})
        return summary

    def _kill_group(self) -> None:
        """SIGKILL whatever is left in the child's process group (it outlives its leader while
        a local worker is still in it)."""
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def request_stop(self) -> bool:
        """End the load early, as its duration would (the child's users stop, their requests in
        flight drain and are recorded, ``stopped`` is written; :meth:`wait` then waits for it):
        SIGUSR1 to the child once its load started. Single-process loads only (``workers`` 0 and
        no ``master_bind``: a Locust master ignores it and runs its whole duration).

        Returns:
            True when the signal was sent; False when the load has not started or the child
            has already ended.
        """
        if self._proc is None or self.started_at is None or self._proc.poll() is not None:
            return False
        try:
            os.kill(self._proc.pid, signal.SIGUSR1)
        except ProcessLookupError:
            return False
        return True

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the child and its workers (SIGTERM to its process group, then SIGKILL after
        ``grace_s``); idempotent. Local workers left behind by a child that died are killed too."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    proc.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._kill_group()
        if self._reader:
            self._reader.join(timeout=5)
        self.stopped_at = time.time()
