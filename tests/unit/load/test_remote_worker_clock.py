"""A remote worker whose clock is off: its offset to the master is measured at hello and every
timestamp it sends lands in the master's clock; a worker whose offset cannot be bounded (a slow
link to the master) makes the master refuse the run.

The worker's clock is shifted by shifted_clock_worker.py (Python's ``time.time``, which every
timestamp of the load comes from: Locust's, the hook's, the arrival schedule's). libfaketime
(``LD_PRELOAD``, ``FAKETIME=-5s``) shifts it too, but with it the worker stalled for seconds now
and then (it also intercepts the timed waits of gevent's resolver threads), so it is not used.
The target (slow_server.py, in this process: the master's clock) logs when each request arrived;
every record must contain its arrival, and the measured offset must be the shift within 5 ms.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from harness.errors import EnvironmentFailure
from harness.load import LoadDriver, LoadSpec, RequestRecord

from .slow_server import SlowServer

SHIFT_S = -5.0
"""The worker's clock runs 5 s behind the master's: offset (master - worker) = +5000 ms."""
HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_worker(spec: LoadSpec, master: str, work_dir: Path, shift_s: float) -> subprocess.Popen:
    """A remote worker process (as on another machine: same command and spec) dialing
    ``master`` (``host:port``), its clock shifted by ``shift_s``."""
    spec_path = work_dir / "load.json"
    spec_path.write_text(json.dumps(asdict(spec)))
    cmd = [sys.executable, str(HERE / "shifted_clock_worker.py"), str(shift_s), master, str(spec_path)]
    with (work_dir / "worker.log").open("wb") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=log)


def unmatched_records(records: list[RequestRecord], arrivals: list[float], slack_s: float) -> list[tuple]:
    """Records no arrival can be matched to, one arrival each, within ``[start - slack_s, end]``
    (greedy by end time, the earliest free arrival: a maximum matching of points to intervals)."""
    free = sorted(arrivals)
    unmatched = []
    for r in sorted(records, key=lambda r: r.start_s + r.duration_ms / 1000):
        end = r.start_s + r.duration_ms / 1000
        match = next((a for a in free if r.start_s - slack_s <= a <= end), None)
        if match is None:
            unmatched.append((r.start_s, r.duration_ms))
        else:
            free.remove(match)
    return unmatched


def spec_for(url: str, port: int, model: str) -> LoadSpec:
    if model == "open":
        load = dict(rate_rps=10.0, users=20, think_time_s=(0, 0))
    else:
        load = dict(users=2, think_time_s=(0.05, 0.05))
    return LoadSpec(host=url, spawn_rate=100, duration_s=2.5, request_timeout_s=2, seed=1, workers=0,
                    master_bind=f"127.0.0.1:{port}", client="fast",
                    requests=[{"method": "GET", "path": "/sleep/0.3", "name": "GET", "weight": 1}], **load)


@pytest.mark.parametrize("model", ["closed", "open"])
def test_a_remote_workers_records_land_in_the_masters_clock(tmp_path, model):
    port = free_port()
    oldest_seen_s = 0.0
    with SlowServer() as server:
        spec = spec_for(server.url, port, model)
        remote = start_worker(spec, f"127.0.0.1:{port}", tmp_path, SHIFT_S)
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        driver = LoadDriver(spec, run_dir)
        try:
            driver.start()
            while driver.running:
                oldest_seen_s = max(oldest_seen_s, driver.stats.oldest_in_flight_s(time.time()) or 0.0)
                time.sleep(0.05)
            driver.wait(timeout_s=60)
            assert remote.wait(timeout=30) == 0
        finally:
            driver.stop()
            remote.kill()
        arrivals = sorted(t for t, _ in server.arrivals)
    records = [RequestRecord.decode(line) for line in (run_dir / "requests.tsv").read_text().splitlines(keepends=True)]
    worker = driver.stopped["workers"][0]
    print(f"{model}: offset {worker['clock_offset_ms']} ms, rtt {worker['rtt_ms']} ms, {len(records)} records")
    assert worker["clock_offset_ms"] == pytest.approx(-SHIFT_S * 1000, abs=5) and worker["rtt_ms"] < 100
    assert len(records) == len(arrivals) >= 8
    # each request arrived at the target (on the master's clock) between its record's start and
    # its end (the open model's start is the intended send time: a request may wait for a user)
    unmatched = unmatched_records(records, arrivals, slack_s=0.005)
    assert not unmatched, (unmatched, [round(a - driver.started_at, 3) for a in arrivals])
    if model == "closed":  # sent at its start: typically within a millisecond (a user's first
        # request also opens its connection)
        lags_ms = [(a - s) * 1000 for a, s in zip(arrivals, sorted(r.start_s for r in records))]
        assert statistics.median(lags_ms) < 10, lags_ms
    else:  # every arrival was scheduled from the master's t0, on the master's clock, and sent
        assert min(r.start_s for r in records) == pytest.approx(driver.started_at, abs=0.01)
        assert len(records) == 25 and driver.stopped["unsent"] == 0
    # the live view's oldest request in flight, in the master's clock too (each hangs 0.3 s;
    # the worker reports every 0.5 s)
    assert 0.1 < oldest_seen_s < 2.5


class SlowLink:
    """A TCP relay that delays every chunk by ``delay_s`` in each direction (a long link)."""

    def __init__(self, upstream_port: int, delay_s: float) -> None:
        self.upstream_port, self.delay_s = upstream_port, delay_s
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.server.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:  # the master does not listen yet: the worker dials again
                down.close()
                continue
            for a, b in ((down, up), (up, down)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        import queue

        chunks: queue.Queue = queue.Queue()

        def send() -> None:
            while (item := chunks.get()) is not None:
                due, data = item
                time.sleep(max(0.0, due - time.monotonic()))
                try:
                    dst.sendall(data)
                except OSError:
                    return

        threading.Thread(target=send, daemon=True).start()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                chunks.put(None)
                return
            chunks.put((time.monotonic() + self.delay_s, data))

    def close(self) -> None:
        self.server.close()


def test_the_master_refuses_a_worker_whose_clock_offset_cannot_be_bounded(tmp_path):
    port = free_port()
    link = SlowLink(port, delay_s=0.6)  # round trips of >= 1.2 s: the offset is uncertain by > 500 ms
    spec = spec_for("http://127.0.0.1:9", port, "closed")
    remote = start_worker(spec, f"127.0.0.1:{link.port}", tmp_path, 0.0)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    driver = LoadDriver(spec, run_dir)
    try:
        with pytest.raises(EnvironmentFailure, match=r"worker 0: its clock offset to the master cannot be bounded"):
            driver.start()
        assert "> 1000 ms" in (driver.error or "")
        assert driver.stats.requests == 0 and driver.started_at is None
    finally:
        driver.stop()
        remote.kill()
        link.close()
