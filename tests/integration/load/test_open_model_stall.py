"""Coordinated omission, observed: the target (Toxiproxy, its container frozen with ``docker
pause``) stalls for 2 s in an 8 s load.

- Open model (``rate_rps``): requests keep their schedule; every one intended during the stall
  completes after it and is recorded with at least the rest of the stall as latency, so the
  stall shows up as latency of ~rate x stall requests.
- Closed model: the users wait with the target, send a handful of requests during the stall,
  and the run's latency distribution barely notices.

Driven through LoadDriver directly, so the test knows exactly when the stall began and ended.
"""

import time

import numpy as np
import pandas as pd
import pytest

from harness.load import LoadDriver, LoadSpec
from harness.load.records import RECORD_COLUMNS

pytestmark = pytest.mark.integration

DURATION_S = 8.0
STALL_AT_S = 3.0
STALL_S = 2.0
RATE = 100.0
REQUESTS = [{"method": "GET", "path": "/version", "name": "GET /version", "weight": 1, "json": None}]


def watch_in_flight(driver: LoadDriver, seconds: float) -> tuple[int, float]:
    """Poll the live counters for ``seconds``; the largest in-flight count and oldest age seen."""
    most, oldest = 0, 0.0
    end = time.time() + seconds
    while time.time() < end:
        most = max(most, driver.stats.in_flight)
        oldest = max(oldest, driver.stats.oldest_in_flight_s(time.time()) or 0.0)
        time.sleep(0.05)
    return most, oldest


def run_with_stall(toxi, run_dir, **load) -> tuple[pd.DataFrame, LoadDriver, float, float]:
    spec = LoadSpec(host=toxi.api_url, spawn_rate=100, duration_s=DURATION_S, request_timeout_s=10, seed=3,
                    requests=REQUESTS, client="fast", **load)
    driver = LoadDriver(spec, run_dir)
    container = toxi.container()
    try:
        t0 = driver.start()
        time.sleep(max(0.0, t0 + STALL_AT_S - time.time()))
        container.pause()
        try:
            frozen_from = time.time()  # frozen at the latest from here...
            most, oldest = watch_in_flight(driver, STALL_S)
            frozen_until = time.time()  # ...and at least until here
        finally:
            container.unpause()
        driver.wait(timeout_s=60)
    finally:
        driver.stop()
    records = pd.read_csv(run_dir / "requests.tsv", sep="\t", names=list(RECORD_COLUMNS), keep_default_na=False)
    assert len(records) == driver.stopped["locust_requests"]
    assert (records["error"] == "").all()
    # live, while the target hung: every user's request in flight, the oldest as old as the stall
    assert most == load["users"] and STALL_S - 0.7 <= oldest <= STALL_S + 0.7, (most, oldest)
    return records, driver, frozen_from, frozen_until


def test_open_model_shows_the_stall_as_latency_and_closed_model_hides_it(toxi, tmp_path):
    (tmp_path / "open").mkdir()
    (tmp_path / "closed").mkdir()
    opened, driver, frozen_from, frozen_until = run_with_stall(toxi, tmp_path / "open", users=50, rate_rps=RATE,
                                                               think_time_s=(0, 0))
    stall = opened[(opened["start_s"] >= frozen_from) & (opened["start_s"] < frozen_until)]
    # the schedule went on during the stall: ~rate x stall requests intended in it
    expected = RATE * (frozen_until - frozen_from)
    assert abs(len(stall) - expected) <= 0.05 * expected + 2, (len(stall), expected)
    # each of them completed after the stall and carries at least the rest of the stall as latency
    rest_ms = (frozen_until - stall["start_s"]) * 1000
    assert (stall["duration_ms"] >= rest_ms - 1).all()
    assert stall["duration_ms"].max() >= 0.95 * STALL_S * 1000
    assert np.corrcoef(stall["start_s"], stall["duration_ms"])[0, 1] < -0.9  # earlier in the stall, longer wait
    open_slow = (opened["duration_ms"] >= 500).mean()

    closed, _, c_from, c_until = run_with_stall(toxi, tmp_path / "closed", users=10, think_time_s=(0.01, 0.02))
    c_stall = closed[(closed["start_s"] >= c_from) & (closed["start_s"] < c_until)]
    closed_slow = (closed["duration_ms"] >= 500).mean()
    print(f"open: {len(stall)} requests intended during the {frozen_until - frozen_from:.2f} s stall, "
          f"p50 {stall['duration_ms'].median():.0f} ms, max {stall['duration_ms'].max():.0f} ms, "
          f"{open_slow:.1%} of the run >= 500 ms, run p90 {opened['duration_ms'].quantile(0.9):.0f} ms; "
          f"closed: {len(c_stall)} requests sent during the stall, {closed_slow:.1%} of the run >= 500 ms, "
          f"run p90 {closed['duration_ms'].quantile(0.9):.0f} ms")
    assert len(c_stall) <= 10 + 2  # at most one per user: they all waited with the target
    assert open_slow >= 0.12  # ~1/4 of the open run was scheduled into the stall
    assert closed_slow <= 0.02  # the closed run hides it
    assert opened["duration_ms"].quantile(0.9) > 5 * closed["duration_ms"].quantile(0.9)
