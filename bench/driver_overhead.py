"""``driver_overhead_ratio``: requests/s of the harness's load ÷ bare ``locust --headless``.

The sample shop comes up once (labelled, as a run project of its own) and both loads hit its
load balancer, in turns: bare, harness, bare, harness, ... bare (12 harness runs, each between
two bare ones; 13 bare runs), after a short warm-up run that is not counted. Each load is
the same user class (bench/scenarios/locustfiles/shop.py: 8 product reads for 2 orders, no
think time), 10 users, 10 s. The shop's containers are pinned to CPU 0 and both loads (the
whole ``harness run``: orchestrator, load child, compose calls) to CPU 1, so the load
generator and the shop do not take turns on the same core, and whatever the orchestrator
costs comes out of its own load child's core:

- harness: ``harness run bench/scenarios/driver.yaml --set load.host=<the shop's lb>``: the
  Locust child, its record hook and stream, the orchestrator's reader, journal, progress and
  monitor, the whole run. Its own project is compose/idle.yml: one idle container without a
  network, so that bringing it up changes nothing on the shop's path (an idle Toxiproxy
  project did: its bridge network puts rules in the FORWARD chain every packet between the
  shop's containers crosses, and two docker-proxy processes);
- bare: ``locust -f shop.py --headless -u 10 -r 10 -t 10s --host <the shop's lb>``.

Both reach the load balancer at its address on the shop's network (``direct_url``), not
through the published loopback port: that port is served by a docker-proxy process that
costs about 200 us of CPU per request (more than a tenth of the shop's own cost) and that
the scheduler moves between the two cores, onto the shop's now and then.

Requests/s is each one's request count over the time from its load's start to its last
response, which is how Locust computes its own ``Requests/s``: the bare run's is Locust's
figure; the harness's is its records over ``load.start`` .. the last record's end. (Bare
``locust -t 10s`` loads for about 9 s here: its run-time timer is armed on gevent's loop clock,
which is stale by the start-up time; counting requests over a nominal 10 s would make bare
Locust look 10 % slower than it is.) Each harness run is compared with the mean of the two bare
runs just before and after it: the machine's speed drifts by several per cent from one 10 s run
to the next (docs/benchmarks.md), and the mean of the two neighbours cancels a drift that is
steady over the half minute they span, where one neighbour would not. The row is the median of
the 12 ratios: it leaves out a comparison that a burst of other load (or of the machine's own
speed) spoiled instead of averaging it in. The pooled ratio (mean over mean) is kept beside
it, and so are the CPU the orchestrator process itself used during each load, sampled from
/proc, and the load child's CPU per request.
"""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path

from bench.common import (LOCUSTFILES, RUN_LABEL, SCENARIOS, Row, StackHandle, bare_locust, harness_run, log,
                          ratios_to_neighbours)
from harness.load.records import RequestRecord

USERS = 10
DURATION_S = 10.0
ORDER = "B" + "HB" * 12
"""12 harness runs, each between two bare ones: the shop's own throughput moves by ±5-15 % from
one 10 s run to the next, pinned or not, on the machine alone (docs/benchmarks.md), so with
fewer runs a few unlucky ones decide the row."""
SHOP_CPUS = "0"
LOAD_CPUS = "1"
"""The shop's containers run on CPU 0, both loads (and the whole harness run) on CPU 1."""


def pin_shop(shop: StackHandle) -> list[str]:
    """Pin every container of the shop to SHOP_CPUS (``docker update --cpuset-cpus``); return their ids."""
    ids = subprocess.run(["docker", "ps", "-q", "--filter", f"label={RUN_LABEL}={shop.run_id}"], capture_output=True,
                         text=True, timeout=30, check=True).stdout.split()
    subprocess.run(["docker", "update", "--cpuset-cpus", SHOP_CPUS, *ids], capture_output=True, text=True, timeout=60,
                   check=True)
    return ids


def last_response_s(records: Path) -> float:
    """Epoch seconds of the last response in a run's ``requests.tsv`` (the greatest start +
    duration): where Locust's own ``Requests/s`` window ends (its last request's log time)."""
    with records.open(encoding="utf-8") as f:
        return max((r.start_s + r.duration_ms / 1000 for r in map(RequestRecord.decode, f)), default=0.0)


def run(work: Path, shop: StackHandle) -> list[Row]:
    url = shop.direct_url("lb", 8080)
    pinned_containers = pin_shop(shop)
    bare_locust(LOCUSTFILES / "shop.py", url, USERS, USERS, 5, work / "driver-warmup", cpus=LOAD_CPUS)
    runs: list[dict] = []
    for i, kind in enumerate(ORDER):
        if kind == "B":
            bare = bare_locust(LOCUSTFILES / "shop.py", url, USERS, USERS, DURATION_S, work / f"driver-bare-{i}",
                               cpus=LOAD_CPUS)
            runs.append({"kind": "bare", "requests": bare.requests, "failures": bare.failures,
                         "loaded_s": round(bare.measured_s, 2), "rps": round(bare.locust_rps, 1),
                         "p50_ms": bare.percentiles_ms["p50"], "process_cpu_s": round(bare.cpu_s, 2)})
        else:
            result = harness_run(SCENARIOS / "driver.yaml", work / f"driver-harness-{i}", f"load.host={url}",
                                 cpus=LOAD_CPUS)
            if result.returncode != 0:
                raise RuntimeError(f"driver run exited {result.returncode}: {result.report.get('error')}")
            load = result.report["load"]
            start, stop = result.event("load.start"), result.event("load.stop")
            loaded_s = last_response_s(result.run_dir / "requests.tsv") - start["t"]
            orchestrator = result.orchestrator_cpu_s(start["t"], stop["t"])
            runs.append({"kind": "harness", "requests": load["recorded"], "locust_requests": load["locust_requests"],
                         "failures": load["locust_failures"], "loaded_s": round(loaded_s, 3),
                         "load_stop_s": load["duration_s"], "rps": round(load["recorded"] / loaded_s, 1),
                         "p50_ms": result.report["totals"]["p50_ms"], "load_child_cpu_s": stop.get("cpu_s"),
                         "orchestrator_cpu_s_during_load": orchestrator, "run_id": result.report["run_id"]})
        log(f"driver: {runs[-1]['kind']} {runs[-1]['rps']} requests/s over {runs[-1]['loaded_s']} s")
    ratios = ratios_to_neighbours(runs, "kind", "harness")
    harness = [r["rps"] for r in runs if r["kind"] == "harness"]
    bare = [r["rps"] for r in runs if r["kind"] == "bare"]
    harness_rps, bare_rps = sum(harness) / len(harness), sum(bare) / len(bare)
    median = round(float(statistics.median(ratios)), 3)
    orchestrator = [r["orchestrator_cpu_s_during_load"] for r in runs if r.get("orchestrator_cpu_s_during_load") is not None]
    child_us = [1e6 * r["load_child_cpu_s"] / r["requests"] for r in runs if r["kind"] == "harness" and r["load_child_cpu_s"]]
    log(f"driver: each harness run ÷ its two bare neighbours {ratios}: median {median}, pooled {harness_rps / bare_rps:.3f}")
    return [Row("driver_overhead_ratio", median, ">=", 0.95, "ratio",
                {"runs": runs, "ratios_to_neighbours": ratios, "pooled_ratio": round(harness_rps / bare_rps, 3),
                 "orchestrator_cpu_s_during_load_max": max(orchestrator) if orchestrator else None,
                 "load_child_cpu_us_per_request": round(statistics.median(child_us), 1) if child_us else None,
                 "harness_rps": round(harness_rps, 1),
                 "bare_rps": round(bare_rps, 1), "users": USERS, "duration_s": DURATION_S,
                 "shop_cpus": SHOP_CPUS, "load_cpus": LOAD_CPUS, "pinned_containers": len(pinned_containers)})]
