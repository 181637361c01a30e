"""``driver_overhead_ratio``: requests/s of the harness's load ÷ bare ``locust --headless``.

The sample shop comes up once (labelled, as a run project of its own) and both loads hit its
load balancer, in turns: bare, harness, harness, bare, three times over (ABBA: a drift of the
machine's load over the benchmark weighs on both sides alike), after a short warm-up run that
is not counted. Each load is the same user class (bench/scenarios/locustfiles/shop.py: 8
product reads for 2 orders, no think time), 10 users, 10 s:

- harness: ``harness run bench/scenarios/driver.yaml --set load.host=<the shop's lb>``: the
  Locust child, its record hook and stream, the orchestrator's reader, journal, progress and
  monitor, the whole run (its own project is an idle Toxiproxy, brought up and down around the
  load as usual);
- bare: ``locust -f shop.py --headless -u 10 -r 10 -t 10s --host <the shop's lb>``.

Requests/s is each one's request count over the time its load really ran: the harness's
records over its ``load.start`` .. ``load.stop``, and Locust's own ``Requests/s`` (its count
over its first to last request) for the bare run. (Bare ``locust -t 10s`` loads for about 9 s
here: its run-time timer is armed on gevent's loop clock, which is stale by the start-up time;
counting requests over a nominal 10 s would make bare Locust look 10 % slower than it is.)
The row is the harness's mean requests/s over bare Locust's; the ratio of each adjacent
bare/harness pair is kept beside it, to show how much the machine's own noise moves a single
comparison. With no think time the users keep the shop saturated, so anything the harness
takes from the machine's two cores shows up as fewer requests.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import LOCUSTFILES, SCENARIOS, Row, StackHandle, bare_locust, harness_run, log

USERS = 10
DURATION_S = 10.0
ORDER = "BHHB" * 3


def run(work: Path, shop: StackHandle) -> list[Row]:
    url = shop.url("lb", 8080)
    bare_locust(LOCUSTFILES / "shop.py", url, USERS, USERS, 5, work / "driver-warmup")
    runs: list[dict] = []
    for i, kind in enumerate(ORDER):
        if kind == "B":
            bare = bare_locust(LOCUSTFILES / "shop.py", url, USERS, USERS, DURATION_S, work / f"driver-bare-{i}")
            runs.append({"kind": "bare", "requests": bare.requests, "failures": bare.failures,
                         "loaded_s": round(bare.measured_s, 2), "rps": round(bare.locust_rps, 1),
                         "p50_ms": bare.percentiles_ms["p50"], "process_cpu_s": round(bare.cpu_s, 2)})
        else:
            result = harness_run(SCENARIOS / "driver.yaml", work / f"driver-harness-{i}", f"load.host={url}")
            if result.returncode != 0:
                raise RuntimeError(f"driver run exited {result.returncode}: {result.report.get('error')}")
            load = result.report["load"]
            stop = result.event("load.stop")
            runs.append({"kind": "harness", "requests": load["recorded"], "locust_requests": load["locust_requests"],
                         "failures": load["locust_failures"], "loaded_s": load["duration_s"],
                         "rps": round(load["recorded"] / load["duration_s"], 1),
                         "p50_ms": result.report["totals"]["p50_ms"], "load_child_cpu_s": stop.get("cpu_s"),
                         "run_id": result.report["run_id"]})
        log(f"driver: {runs[-1]['kind']} {runs[-1]['rps']} requests/s over {runs[-1]['loaded_s']} s")
    pairs = [runs[i:i + 2] for i in range(0, len(runs), 2)]  # each pair: one bare run, one harness run
    pair_ratios = [round(next(r["rps"] for r in p if r["kind"] == "harness")
                         / next(r["rps"] for r in p if r["kind"] == "bare"), 3) for p in pairs]
    harness = [r["rps"] for r in runs if r["kind"] == "harness"]
    bare = [r["rps"] for r in runs if r["kind"] == "bare"]
    harness_rps, bare_rps = sum(harness) / len(harness), sum(bare) / len(bare)
    return [Row("driver_overhead_ratio", round(harness_rps / bare_rps, 3), ">=", 0.95, "ratio",
                {"runs": runs, "pair_ratios": pair_ratios, "harness_rps": round(harness_rps, 1),
                 "bare_rps": round(bare_rps, 1), "users": USERS, "duration_s": DURATION_S})]
