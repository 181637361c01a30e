"""Requests in flight when the load's duration ends are recorded, not killed; requests in flight
show in the live counters while they hang. A real child (and real Locust workers) against a
local target that answers after 2 s (slow_server.py): with a 3 s load, every user still has a
request in flight at the end (sent at ~2 s, answered at ~4 s)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness.load import LoadDriver, LoadSpec, RequestRecord

from .slow_server import SlowServer

HANG_S = 2.0
DURATION_S = 3.0


def run(spec: LoadSpec, run_dir: Path) -> tuple[LoadDriver, list[RequestRecord], dict]:
    """Run the load; return the driver, its records and what the live counters showed
    (``max_in_flight``, ``max_oldest_s``: the largest in-flight count and oldest age seen)."""
    driver = LoadDriver(spec, run_dir)
    seen = {"max_in_flight": 0, "max_oldest_s": 0.0}
    try:
        driver.start()
        while driver.running:
            seen["max_in_flight"] = max(seen["max_in_flight"], driver.stats.in_flight)
            seen["max_oldest_s"] = max(seen["max_oldest_s"], driver.stats.oldest_in_flight_s(time.time()) or 0.0)
            time.sleep(0.05)
        driver.wait(timeout_s=30)
    finally:
        driver.stop()
    lines = (run_dir / "requests.tsv").read_text().splitlines(keepends=True)
    return driver, [RequestRecord.decode(line) for line in lines], seen


def mix_spec(url: str, **kw) -> LoadSpec:
    fields = dict(host=url, users=4, spawn_rate=100, duration_s=DURATION_S, think_time_s=(0, 0), request_timeout_s=5,
                  seed=1, requests=[{"method": "GET", "path": f"/sleep/{HANG_S}", "name": "hang", "weight": 1}])
    return LoadSpec(**{**fields, **kw})


def assert_last_requests_drained(driver: LoadDriver, records: list[RequestRecord], users: int) -> None:
    t0 = driver.started_at
    last = [r for r in records if r.start_s >= t0 + HANG_S - 0.5]  # the ones in flight when the duration ended
    assert len(last) == users, [(round(r.start_s - t0, 2), r.duration_ms) for r in records]
    for r in last:
        assert r.error == "" and HANG_S * 1000 - 50 <= r.duration_ms <= HANG_S * 1000 + 500
        assert r.start_s < t0 + DURATION_S  # its own start time, inside the load
    assert driver.stats.requests == driver.stopped["records"] == driver.stopped["locust_requests"] == 2 * users
    assert driver.stopped["killed_in_flight"] == 0
    assert driver.stopped["stop_requested_t"] == pytest.approx(t0 + DURATION_S, abs=0.3)


@pytest.mark.parametrize("client,workers", [("requests", 0), ("fast", 2)])
def test_requests_in_flight_at_the_end_are_recorded_with_their_duration(tmp_path, client, workers):
    with SlowServer() as server:
        driver, records, seen = run(mix_spec(server.url, client=client, workers=workers), tmp_path)
    assert_last_requests_drained(driver, records, users=4)
    # live: every user's request counted in flight while it hung (summed over the workers)
    assert seen["max_in_flight"] == 4
    assert HANG_S - 0.7 <= seen["max_oldest_s"] <= HANG_S + 0.7
    assert driver.stats.in_flight == 0 and driver.stats.oldest_in_flight_s(time.time()) is None  # after stopped


def test_open_model_records_every_arrival_sent_and_stops_without_waiting_for_the_stop_timeout(tmp_path):
    # 4/s for 3 s: 12 arrivals, each hangs 2 s; 20 users are enough for all of them
    with SlowServer() as server:
        driver, records, seen = run(mix_spec(server.url, users=20, rate_rps=4.0, client="fast"), tmp_path)
    t0 = driver.started_at
    assert len(records) == 12 and driver.stopped["unsent"] == 0 and driver.stopped["killed_in_flight"] == 0
    assert all(HANG_S * 1000 - 50 <= r.duration_ms <= HANG_S * 1000 + 500 for r in records)
    assert max(r.start_s for r in records) == pytest.approx(t0 + 2.75, abs=0.01)  # intended times
    assert seen["max_in_flight"] >= 7
    # users waiting for an arrival stop at once: the end is the last answer (~4.75 s), not the
    # 6 s stop timeout after the duration
    assert driver.stopped["t"] - t0 < DURATION_S + HANG_S + 0.5 + 1.0


def write_locustfile(path: Path, request: str, fast: bool = False) -> Path:
    base = "FastHttpUser" if fast else "HttpUser"
    module = "locust.contrib.fasthttp" if fast else "locust"
    path.write_text(
        f"from locust import constant, task\n"
        f"from {module} import {base}\n"
        f"class Own({base}):\n"
        f"    wait_time = constant(0)\n"
        f"    @task\n"
        f"    def t(self):\n"
        f"        {request}\n"
    )
    return path


@pytest.mark.parametrize("fast", [False, True])
def test_a_locustfiles_requests_are_counted_in_flight_and_drained(tmp_path, fast):
    locustfile = write_locustfile(tmp_path / "own.py", f'self.client.get("/sleep/{HANG_S}", name="hang")', fast)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with SlowServer() as server:
        spec = mix_spec(server.url, users=3, requests=[], locustfile=str(locustfile))
        driver, records, seen = run(spec, run_dir)
    assert_last_requests_drained(driver, records, users=3)
    assert seen["max_in_flight"] == 3 and seen["max_oldest_s"] >= HANG_S - 0.7


def test_a_request_still_in_flight_at_the_stop_timeout_is_counted_as_killed(tmp_path):
    # the locustfile's request opts out of any timeout (timeout=None, kept over the load's
    # request_timeout_s) and hangs 6 s; the spec's request_timeout_s (0.5 s) makes the stop
    # timeout 1.5 s: the users are killed mid-request at ~4.5 s
    locustfile = write_locustfile(tmp_path / "own.py", 'self.client.get("/sleep/6", name="hang", timeout=None)')
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    with SlowServer() as server:
        spec = mix_spec(server.url, users=2, requests=[], locustfile=str(locustfile), request_timeout_s=0.5)
        driver, records, seen = run(spec, run_dir)
    assert records == [] and driver.stopped["locust_requests"] == 0
    assert driver.stopped["killed_in_flight"] == 2
    assert seen["max_in_flight"] == 2 and seen["max_oldest_s"] >= DURATION_S
    assert driver.stopped["t"] - driver.started_at < DURATION_S + 1.5 + 1.5
