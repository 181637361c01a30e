"""Start the Locust child, collect its record stream, and keep live per-second counters.

The child's records are appended to the journal's ``requests.tsv`` as they arrive. Counters per
whole second feed the progress display (and, later, live abort conditions).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.errors import EnvironmentFailure

STARTUP_TIMEOUT_S = 60
"""How long the child may take to import locust and start its users."""


@dataclass(frozen=True)
class LoadSpec:
    """What the child runs (JSON-serialised to it). Units as in :class:`harness.scenario.Load`;
    ``host`` is already resolved to a reachable address; ``seed`` drives the request mix."""

    host: str
    users: int
    spawn_rate: float
    duration_s: float
    think_time_s: tuple[float, float]
    request_timeout_s: float
    seed: int
    requests: list[dict] = field(default_factory=list)
    locustfile: str | None = None


@dataclass
class LiveStats:
    """Counters the reader thread keeps: totals and per-epoch-second ``[requests, errors]``."""

    requests: int = 0
    errors: int = 0
    per_second: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def window(self, now_s: float, seconds: int = 3) -> tuple[float, float]:
        """RPS and error rate over the last ``seconds`` complete seconds before ``now_s``."""
        end = int(now_s)
        rows = [self.per_second.get(s, [0, 0]) for s in range(end - seconds, end)]
        total = sum(r[0] for r in rows)
        errors = sum(r[1] for r in rows)
        return total / seconds, (errors / total if total else 0.0)


class LoadDriver:
    """Runs one load child process.

    Args:
        spec: the load to run.
        run_dir: ``load.json`` (the spec), ``locust.log`` (child stderr) and the records file
            (``requests.tsv``) are written here.
    """

    def __init__(self, spec: LoadSpec, run_dir: Path):
        self.spec = spec
        self.run_dir = run_dir
        self.records_path = run_dir / "requests.tsv"
        self.stats = LiveStats()
        self.started_at: float | None = None
        self.stopped: dict | None = None
        self.error: str | None = None
        self._started = threading.Event()
        self._proc: subprocess.Popen | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> float:
        """Start the child and wait until its users are spawning; return that time (epoch s),
        the load's t0 that fault offsets count from.

        Raises:
            EnvironmentFailure: the child failed or did not start within STARTUP_TIMEOUT_S.
        """
        spec_path = self.run_dir / "load.json"
        spec_path.write_text(json.dumps(asdict(self.spec), indent=2))
        stderr = (self.run_dir / "locust.log").open("ab")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "harness.load.worker", str(spec_path)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the orchestrator, which stops the child
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        stderr.close()
        self._reader = threading.Thread(target=self._read, name="load-reader", daemon=True)
        self._reader.start()
        if not self._started.wait(STARTUP_TIMEOUT_S) or self.started_at is None:
            self.stop()
            raise EnvironmentFailure(self.error or f"load child did not start within {STARTUP_TIMEOUT_S} s (see locust.log)")
        return self.started_at

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        per_second = self.stats.per_second
        with self.records_path.open("a", encoding="utf-8") as records:
            for raw in self._proc.stdout:
                line = raw.decode("utf-8", "replace")
                if line.startswith("R\t"):
                    record = line[2:]
                    records.write(record)
                    fields = record.split("\t", 5)
                    bucket = per_second[int(float(fields[0]))]
                    bucket[0] += 1
                    self.stats.requests += 1
                    if fields[4]:
                        bucket[1] += 1
                        self.stats.errors += 1
                elif line.startswith("E\t"):
                    self._on_event(json.loads(line[2:]))
                    records.flush()
        self._started.set()

    def _on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "started":
            self.started_at = float(event["t"])
            self._started.set()
        elif kind == "stopped":
            self.stopped = event
        elif kind == "error":
            self.error = f"load child: {event.get('message')}"
            self._started.set()

    @property
    def running(self) -> bool:
        """True while the child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def wait(self, timeout_s: float) -> None:
        """Wait for the child to finish its duration and for every record to be read.

        Raises:
            EnvironmentFailure: it did not finish in time (it is then stopped) or failed.
        """
        assert self._proc is not None
        try:
            self._proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            raise EnvironmentFailure(f"load child did not finish within {timeout_s:.0f} s of its end") from None
        if self._reader:
            self._reader.join(timeout=30)
        if self._proc.returncode != 0 or self.stopped is None:
            raise EnvironmentFailure(self.error or f"load child exited with {self._proc.returncode} (see locust.log)")

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the child (SIGTERM, then SIGKILL after ``grace_s``); idempotent."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                proc.wait(timeout=wait_s)
                break
            except subprocess.TimeoutExpired:
                continue
        if self._reader:
            self._reader.join(timeout=5)
        self.stopped_at = time.time()
