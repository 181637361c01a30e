"""``workers_scaling_ratio``: requests/s with ``load.workers: 2`` ÷ with ``load.workers: 1``.

``harness run bench/scenarios/workers.yaml`` with ``load.client: requests`` (HttpUser, see CLIENT;
64 users, no think time, 10 s)
against a static target brought up for this benchmark (bench/scenarios/compose/static.yml:
HAProxy, one thread, answering ``200 ok`` from memory, about the cheapest answer an HTTP server
gives) on the host's loopback (host networking: no docker-proxy, no veth pair on the path).
Runs in turns 1, 2, 1, 2, ... 1 workers (fifteen 2-worker runs, each between two 1-worker runs);
each 2-worker run's requests/s is divided by the mean of its two neighbours', and the row is the
median of the fifteen ratios, its goal judged on their 90 % lower bound (bench/confidence.py). The machine's speed drifts (the same worker paid 218-335 us of CPU
per request in eight 1-worker runs within two minutes, docs/benchmarks.md): the neighbours'
mean cancels a drift that is steady over the half minute they span, and the median leaves out a
comparison that a sudden change spoiled.

Beside it, what bounds the figure on this machine: the workers' own CPU seconds in each
2-worker run ÷ its neighbours' (``workers_cpu_ratio_median``): with a request costing a worker
the same CPU either way, the throughput ratio is that CPU ratio, and two cores shared with the
target and the master give two workers about 1.81 times one worker's core here
(docs/benchmarks.md). Also measured during each load (between the
journal's ``load.start`` and ``load.stop``): the CPU seconds of the workers and the master
(their own accounting), of the target (its cgroup), and of the whole machine (/proc/stat), so
other people's containers show too. From the 1-worker runs, the CPU cost of one request in a
worker (``c_w``) and in the target (``c_t``): with the target on the same 2 cores, 2 workers
can at best reach ``2 / (c_w + c_t)`` requests/s against ``1 / c_w`` for one worker with a
core of its own, so the best ratio this machine allows, idle, is ``2 c_w / (c_w + c_t)``.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.common import (SCENARIOS, CpuSampler, Row, StackHandle, container_cpu_reader, harness_run, log,
                          ratios_to_neighbours)

ORDER = (1,) + (2, 1) * 15
"""Fifteen 2-worker runs, each between two 1-worker runs: with 15 ratios the sign test bounds
their median at 90 % by the fifth smallest (bench/confidence.py), so four spoiled comparisons
are allowed. Fewer do not resolve the goal here: the goal (1.8) is within 5 % of what two
cores shared with the target allow (``best_ratio_on_idle_machine``, about 1.89), while one
ratio moves by about 7 % with the VM's speed (1.66-2.11 over seven on 2026-12-07). A pairing in
one run, as remote_worker_throughput_ratio has, is not possible: one and two workers cannot run
at once on two cores, and a speed probe beside the load read the idle core's wake-ups as much as
the drift (docs/benchmarks.md)."""
CLIENT = "requests"
"""Locust's HttpUser: about 830 us of worker CPU per request here, against about 50 us for the
target, the master and the orchestrator's reader together. With FastHttpUser (267 us per
request) those others take so large a share of two cores that an idle machine allows at most
2 x 267 / (267 + 35 + ...) < 1.77 (docs/benchmarks.md): the row would measure the box, not how
the harness's workers scale."""
CORES = 2


def run(work: Path, target: StackHandle) -> list[Row]:
    container = target.stack.containers.inspect(target.stack.containers.running_containers("static")[0])  # type: ignore[attr-defined]
    runs = []
    with CpuSampler(container_cpu_reader(container.id)) as cpu:
        for i, workers in enumerate(ORDER):
            result = harness_run(SCENARIOS / "workers.yaml", work / f"workers-{i}", f"load.workers={workers}",
                                 f"load.client={CLIENT}")
            if result.returncode != 0:
                raise RuntimeError(f"workers run exited {result.returncode}: {result.report.get('error')}")
            load = result.report["load"]
            start, stop = result.event("load.start"), result.event("load.stop")
            during = cpu.between(start["t"], stop["t"])
            worker_cpu = [w.get("cpu_s") or 0.0 for w in stop.get("workers") or []]
            requests = load["recorded"]
            runs.append({
                "workers": workers, "requests": requests, "rps": round(requests / load["duration_s"], 1),
                "locust_requests": load["locust_requests"], "errors": result.report["totals"]["errors"],
                "p50_ms": result.report["totals"]["p50_ms"], "worker_cpu_s": worker_cpu,
                "master_cpu_s": stop.get("cpu_s"), "target_cpu_s": during.get("container_cpu_s"),
                "machine_busy_cpu_s": during.get("machine_busy_cpu_s"), "machine_cpu_s": during.get("machine_cpu_s"),
                "worker_us_per_request": round(1e6 * sum(worker_cpu) / requests, 1) if requests else None,
                "target_us_per_request": (round(1e6 * during["container_cpu_s"] / requests, 1)
                                          if requests and "container_cpu_s" in during else None),
                "duration_s": load["duration_s"], "host": load["host"], "run_id": result.report["run_id"],
            })
            r = runs[-1]
            log(f"workers: {workers} worker(s): {r['rps']} requests/s; CPU during the load: workers "
                f"{sum(worker_cpu):.1f} s, target {r['target_cpu_s']} s, whole machine {r['machine_busy_cpu_s']} "
                f"of {r['machine_cpu_s']} s")
    one = [r for r in runs if r["workers"] == 1]
    two = [r for r in runs if r["workers"] == 2]
    ratios = ratios_to_neighbours(runs, "workers", 2)
    for r in runs:
        r["workers_cpu_total_s"] = round(sum(r["worker_cpu_s"]), 3)
    cpu_ratios = ratios_to_neighbours(runs, "workers", 2, value="workers_cpu_total_s")
    pooled = sum(r["rps"] for r in two) / len(two) / (sum(r["rps"] for r in one) / len(one))
    c_w = sum(sum(r["worker_cpu_s"]) for r in one) / sum(r["requests"] for r in one)
    c_t = (sum(r["target_cpu_s"] for r in one) / sum(r["requests"] for r in one)
           if all(r["target_cpu_s"] is not None for r in one) else None)
    bound = round(min(2.0, CORES * c_w / (c_w + c_t)), 3) if c_t is not None else None
    others = [round(r["machine_busy_cpu_s"] - sum(r["worker_cpu_s"]) - (r["master_cpu_s"] or 0) - (r["target_cpu_s"] or 0), 2)
              for r in runs if r["machine_busy_cpu_s"] is not None]
    log(f"workers: a request costs {1e6 * c_w:.0f} us of worker CPU and {1e6 * c_t:.0f} us of target CPU: "
        f"an idle {CORES}-core machine allows a ratio of at most {bound}" if c_t is not None else "workers: no target CPU")
    log(f"workers: each 2-worker run ÷ its two 1-worker neighbours {ratios}: median {statistics.median(ratios):.3f}, "
        f"pooled {pooled:.3f}")
    log(f"workers: the workers' CPU seconds, the same way {cpu_ratios}: median {statistics.median(cpu_ratios):.3f} "
        "(with a request's cost unchanged, the throughput ratio cannot exceed it)")
    detail = {"runs": runs, "ratios_to_neighbours": ratios, "pooled_ratio": round(pooled, 3), "target": runs[0]["host"],
              "worker_us_per_request": round(1e6 * c_w, 1),
              "target_us_per_request": round(1e6 * c_t, 1) if c_t is not None else None,
              "best_ratio_on_idle_machine": bound,
              "workers_cpu_ratios_to_neighbours": cpu_ratios,
              "workers_cpu_ratio_median": round(float(statistics.median(cpu_ratios)), 3),
              "cpu_s_of_everything_else_during_each_load": others}
    return [Row("workers_scaling_ratio", round(float(statistics.median(ratios)), 3), ">=", 1.8, "ratio", detail,
                samples=ratios)]
