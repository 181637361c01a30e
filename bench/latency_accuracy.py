"""``latency_accuracy_error``: injected Toxiproxy latency against the added p50 the harness measures.

One ``harness run`` of bench/scenarios/latency.yaml: 50, 300 and 1000 ms of latency, one after
the other, on a proxy in front of a fast upstream, under an even 50 requests/s. For each fault
window, the added p50 is its p50 (report.json) minus the reference: the mean p50 of the no-fault
windows right before and right after it (the baseline, then each recovery window). The base
latency of a loaded 2-core machine drifts by milliseconds over a run; taking it from both sides
of the fault keeps that drift out of the added latency as far as it can be. The row's value is
the largest relative error of the three, in percent.

Locust's own figure beside ours: bare ``locust -f`` with the same user class
(bench/scenarios/locustfiles/version.py) against the benchmarks' shared Toxiproxy stack, one
short run per level with the same latency toxic set through Toxiproxy's API, plus one without;
Locust's added p50 is its (bucket-rounded) p50 of a level's run minus the one without. One
more bare run goes straight to the upstream (no proxy): the difference from the run through
the proxy is what the proxy itself adds to a request on this machine. Toxiproxy's latency
toxic counts its delay from the moment a chunk entered the proxy, so the part of that time
spent before the toxic is absorbed by the delay: the added latency a client sees is the
injected one minus it.
"""

from __future__ import annotations

from pathlib import Path

from bench.common import LOCUSTFILES, SCENARIOS, Row, StackHandle, bare_locust, harness_run, log

LEVELS_MS = (50, 300, 1000)
BARE_RUN_S = 5.0


def _ours(work: Path) -> dict:
    run = harness_run(SCENARIOS / "latency.yaml", work / "latency-run")
    if run.returncode != 0:
        raise RuntimeError(f"latency run exited {run.returncode}: {run.report.get('error')}")
    windows = run.report["windows"]
    levels = {}
    for level in LEVELS_MS:
        i = next(k for k, w in enumerate(windows) if w["name"] == f"fault:latency-{level}")
        before, fault, after = windows[i - 1], windows[i], windows[i + 1]
        reference = (before["metrics"]["p50_ms"] + after["metrics"]["p50_ms"]) / 2
        added = fault["metrics"]["p50_ms"] - reference
        levels[str(level)] = {
            "fault_p50_ms": fault["metrics"]["p50_ms"], "fault_requests": fault["metrics"]["requests"],
            "reference_p50_ms": round(reference, 3), "reference_windows": [before["name"], after["name"]],
            "added_p50_ms": round(added, 3), "error_pct": round(100 * abs(added - level) / level, 3),
            "added_p50_vs_baseline_ms": round(fault["metrics"]["p50_ms"] - windows[0]["metrics"]["p50_ms"], 3),
        }
    no_fault = [w["metrics"]["p50_ms"] for w in windows if w["kind"] != "fault"]
    return {"levels": levels, "no_fault_p50_ms": no_fault, "run_id": run.report["run_id"],
            "recorded": run.report["load"]["recorded"], "locust_requests": run.report["load"]["locust_requests"],
            "wall_s": round(run.wall_s, 1)}


def _locusts(work: Path, toxi: StackHandle) -> dict:
    from harness.toxiproxy import ToxicConfig

    client = toxi.toxiproxy
    url = toxi.url("toxiproxy", 18474)
    p50 = {}
    for level in (0, *LEVELS_MS):
        if level:
            client.add_toxic("api", ToxicConfig(f"bench-{level}", "latency", attributes={"latency": level, "jitter": 0}))
        try:
            bare = bare_locust(LOCUSTFILES / "version.py", url, 60, 50, BARE_RUN_S, work / f"locust-latency-{level}")
        finally:
            if level:
                client.remove_toxic("api", f"bench-{level}")
        p50[level] = bare.percentiles_ms["p50"]
        log(f"latency: bare locust at +{level} ms: p50 {p50[level]} ms over {bare.requests} requests")
    direct = bare_locust(LOCUSTFILES / "version.py", toxi.url("toxiproxy", 8474), 60, 50, BARE_RUN_S,
                         work / "locust-latency-direct")
    log(f"latency: bare locust straight to the upstream (no proxy): p50 {direct.percentiles_ms['p50']} ms")
    levels = {}
    for level in LEVELS_MS:
        added = p50[level] - p50[0]
        levels[str(level)] = {"p50_ms": p50[level], "added_p50_ms": added,
                              "error_pct": round(100 * abs(added - level) / level, 3)}
    return {"no_fault_p50_ms": p50[0], "levels": levels, "direct_no_proxy_p50_ms": direct.percentiles_ms["p50"]}


def run(work: Path, toxi: StackHandle) -> list[Row]:
    ours = _ours(work)
    for level, figures in ours["levels"].items():
        log(f"latency: +{level} ms injected, harness measured +{figures['added_p50_ms']} ms "
            f"({figures['error_pct']}% off)")
    locust = _locusts(work, toxi)
    value = max(f["error_pct"] for f in ours["levels"].values())
    return [Row("latency_accuracy_error", value, "<=", 2.0, "%", {"harness": ours, "bare_locust": locust})]
