"""``load.workers: 2`` end to end through ``harness run``: a Locust master and two workers
share a 400 requests/s open-model load; the master's merged stream has every record of both
workers, equal to Locust's aggregated total, and the arrivals interleave into one sequence."""

import numpy as np
import pytest

pytestmark = pytest.mark.integration

RATE = 400.0
DURATION_S = 8
USERS = 40


def test_two_workers_records_are_merged_and_both_contributed(run_scenario):
    run = run_scenario("distributed")
    assert run.returncode == 0, run.stderr[-3000:]
    load, totals = run.report["load"], run.report["totals"]
    stop = run.journal("load.stop")
    assert load["recorded"] == load["locust_requests"] == stop["records"] > 0
    assert sorted(load["worker_records"]) == ["0", "1"] and stop["missing_workers"] == []
    shares = {k: v / load["recorded"] for k, v in load["worker_records"].items()}
    assert sum(load["worker_records"].values()) == load["recorded"]
    assert all(0.4 <= s <= 0.6 for s in shares.values()), shares  # each got half of the rate
    for w in stop["workers"]:
        assert w["records"] == w["locust_requests"]  # per worker too
    print(f"{totals['rps']:.1f} rps, per worker {load['worker_records']}, unsent {load['unsent']}, "
          f"worker CPU-s {[w['cpu_s'] for w in stop['workers']]}")
    # The schedule is kept whatever happens: exactly 8 s x 400/s arrivals were scheduled, and
    # each one was recorded (those in flight when the load stopped too: the users finish them)
    # or still queued at the end (unsent)
    assert load["recorded"] + load["unsent"] == RATE * DURATION_S, load
    assert stop["killed_in_flight"] == 0 and stop["garbage_lines"] == 0
    assert all(abs(w["clock_offset_ms"]) < 50 and w["rtt_ms"] < 100 for w in stop["workers"])  # same machine
    assert RATE * 0.5 <= totals["rps"] <= RATE * 1.02  # sane: the rate, give or take a starved generator
    starts = np.sort(run.records()["start_s"].to_numpy())
    gaps = np.diff(starts)
    assert np.median(gaps) == pytest.approx(1 / RATE, abs=1e-5)  # one sequence, 2.5 ms apart
    assert load["model"] == "open" and load["rate_rps"] == RATE
