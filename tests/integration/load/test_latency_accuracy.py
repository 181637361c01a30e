"""300 ms of Toxiproxy latency in front of a fast upstream, measured through ``harness run``:
the added p50 is 300 ms within 3 %, and the report carries Locust's own bucket-rounded
percentiles next to ours (which are not rounded)."""

import numpy as np
import pytest

pytestmark = pytest.mark.integration

INJECTED_MS = 300.0


@pytest.fixture(scope="module")
def latency_run(docker_engine, tmp_path_factory):
    # one run for both tests (module scope): run_scenario is function-scoped, so inline it
    import json
    import subprocess
    import sys

    from tests.conftest import REPO
    from tests.integration.load.conftest import CLEAN, HERE, Run, leftovers

    out = tmp_path_factory.mktemp("latency")
    proc = subprocess.run([sys.executable, "-m", "harness", "run", str(HERE / "latency.yaml"), "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    report = json.loads((out / "report.json").read_text())
    assert leftovers(report["run_id"]) == CLEAN
    return Run(proc.returncode, proc.stderr, report, out)


def test_added_p50_is_the_injected_latency_within_3_percent(latency_run):
    assert latency_run.returncode == 0, latency_run.stderr[-3000:]
    report = latency_run.report
    baseline = latency_run.window("baseline")["metrics"]
    fault = latency_run.window("fault:slow")["metrics"]
    added = fault["p50_ms"] - baseline["p50_ms"]
    error = abs(added - INJECTED_MS) / INJECTED_MS
    print(f"baseline p50 {baseline['p50_ms']} ms, fault p50 {fault['p50_ms']} ms, added {added:.3f} ms "
          f"({error:.2%} off 300 ms)")
    assert error <= 0.03, (baseline, fault)
    assert fault["requests"] > 50 and fault["error_rate"] == 0
    assert report["load"]["recorded"] == report["load"]["locust_requests"]


def test_locusts_rounded_percentiles_sit_next_to_ours_which_are_not_rounded(latency_run):
    load, totals = latency_run.report["load"], latency_run.report["totals"]
    for key in ("locust_p50_ms", "locust_p95_ms", "locust_p99_ms"):
        assert load[key] is not None, key
    # The run's p99 falls among the ~300 ms requests: Locust keeps 10 ms buckets there...
    assert 300 <= load["locust_p99_ms"] < 1000 and load["locust_p99_ms"] % 10 == 0, load
    # ...ours is the exact percentile of the records (HdrHistogram's rank, its bucket's highest
    # value: at most 1/1024 above, at 3 significant digits)
    durations = np.sort(latency_run.records()["duration_ms"].to_numpy())
    for key, p in (("p99_ms", 99), ("p50_ms", 50)):
        exact = float(durations[max(int(p / 100 * len(durations) + 0.5), 1) - 1])
        assert exact - 0.001 <= totals[key] <= exact * (1 + 2**-10) + 0.002, (key, totals[key], exact)
    # Locust times each request from its actual send, we from its intended send time (open
    # model), which is never later: Locust's p99 is at most ours, give or take its 10 ms bucket
    assert load["locust_p99_ms"] <= totals["p99_ms"] + 10
    print(f"p99: ours {totals['p99_ms']} ms, Locust's {load['locust_p99_ms']} ms; "
          f"p50: ours {totals['p50_ms']}, Locust's {load['locust_p50_ms']}")
