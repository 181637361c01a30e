"""Thousands of requests per second with ``client: fast`` (FastHttpUser) against a fast
upstream (Toxiproxy's ``GET /version``): every request has its record, the count equals
Locust's own total exactly."""

import pytest

pytestmark = pytest.mark.integration

MIN_RPS = 2000


def test_record_count_equals_locusts_total_at_2000_rps(run_scenario):
    run = run_scenario("fast")
    assert run.returncode == 0, run.stderr[-3000:]
    load, totals = run.report["load"], run.report["totals"]
    stop = run.journal("load.stop")
    assert load["client"] == "fast" and load["model"] == "closed"
    assert load["recorded"] == load["locust_requests"] == stop["records"] > 0
    assert totals["error_rate"] == 0
    capacity = load["recorded"] / stop["cpu_s"]
    print(f"{totals['rps']:.0f} rps over the run ({load['recorded']} requests); the child used "
          f"{stop['cpu_s']:.1f} CPU-s: {capacity:,.0f} requests per CPU-s")
    assert totals["rps"] >= MIN_RPS, (
        f"only {totals['rps']:.0f} rps: the load child got {stop['cpu_s']:.1f} CPU-s in "
        f"{load['duration_s']:.0f} s ({capacity:,.0f} requests per CPU-s); is the machine busy?")
