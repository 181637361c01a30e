"""``LoadDriver.request_stop``: a real single-process Locust child against a local target ends
its load early, as its duration would (users asked to stop, the requests in flight drained and
recorded, ``stopped`` written): what ``harness gameday``'s ``end`` relies on."""

from __future__ import annotations

import time

from harness.load.driver import LoadDriver
from harness.load.records import RequestRecord

from .slow_server import SlowServer
from .test_in_flight_at_stop import mix_spec


def test_request_stop_ends_the_load_early_and_drains_the_requests_in_flight(tmp_path):
    with SlowServer() as server:
        driver = LoadDriver(mix_spec(server.url, duration_s=60.0, users=2,
                                     requests=[{"method": "GET", "path": "/sleep/0.5", "name": "s", "weight": 1}]),
                            tmp_path)
        assert driver.request_stop() is False  # not started: nothing to stop
        try:
            t0 = driver.start()
            time.sleep(1.2)
            asked = time.time()
            assert driver.request_stop() is True
            driver.wait(timeout_s=30)
        finally:
            driver.stop()
    assert time.time() - t0 < 10  # not the 60 s duration
    assert abs(driver.stopped["stop_requested_t"] - asked) < 0.5
    records = [RequestRecord.decode(line) for line in (tmp_path / "requests.tsv").read_text().splitlines(True)]
    assert len(records) == driver.stats.requests == driver.stopped["records"] == driver.stopped["locust_requests"]
    assert driver.stopped["killed_in_flight"] == 0
    assert driver.request_stop() is False  # ended: nothing to stop
