"""``latency_accuracy_error``: injected Toxiproxy latency against the added p50 the harness measures.

One ``harness run`` of bench/scenarios/latency.yaml: 50, 300 and 1000 ms of latency, one after
the other, on a proxy in front of a fast upstream, under an open-model load of 50 requests/s. For each fault
window, the added p50 is its p50 (report.json: the exact nearest-rank p50 of the window's
records, :mod:`harness.analysis.percentile`) minus the reference: the mean p50 of the no-fault
windows right before and right after it (the baseline, then each recovery window). The base
latency of a loaded 2-core machine drifts by milliseconds over a run; taking it from both sides
of the fault keeps that drift out of the added latency as far as it can be. Each run gives the
largest relative error of the three, in percent; REPEATS runs, and the row is their median with
its 90 % bound (bench/confidence.py).

Locust's own figure beside ours: bare ``locust -f`` with a paced user class at the same rate
(bench/scenarios/locustfiles/version.py) against the benchmarks' shared Toxiproxy stack, one
short run per level with the same latency toxic set through Toxiproxy's API, plus one without;
Locust's added p50 is its (bucket-rounded: 1 ms below 100 ms, 10 ms to 1 s, 100 ms above) p50
of a level's run minus the one without.

Why the open model: with paced closed-model users, the requests a toxic holds are all released
at once when it is removed; their users then send again together, and the bursts that follow
queue up on a busy 2-core machine, which moved the no-fault p50 around by 5-15 ms from one
window to the next (a 10-24 % error on the 50 ms level in earlier runs). Fixed arrivals do not
bunch up, and the base latency stays at ~2.5 ms in every no-fault window.

Every percentile computed here (the spread of the base latency in the details) is the harness's
one percentile, :func:`harness.analysis.percentile.percentiles_ms`, like report.json's.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

from bench.common import LOCUSTFILES, SCENARIOS, Row, StackHandle, bare_locust, harness_run, log
from harness.analysis.percentile import percentiles_ms

LEVELS_MS = (50, 300, 1000)
REPEATS = 7
"""Harness runs of the scenario. Four are the fewest whose median the sign test bounds at 90 %,
but then the bound is the worst run: one run disturbed by another process on this 2-core VM
(1.56 % against 0.18-0.51 % for the other three, 2026-12-07 13:17) decides the row. With seven,
the bound is the second worst (93.75 %, bench/confidence.py)."""
BARE_RUN_S = 5.0


def _ours(work: Path, i: int = 0) -> dict:
    """Run ``i`` of the scenario: per level its added p50 and error, and the base latency's spread."""
    run = harness_run(SCENARIOS / "latency.yaml", work / f"latency-run-{i}")
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
    # How the requests' own latency is spread, from the run's records: in the no-fault windows,
    # and in each fault window less the injected latency (what is left of the base latency).
    from harness.analysis.metrics import load_records

    records = load_records(run.run_dir / "requests.tsv")
    offsets = records["start_s"].to_numpy() - run.event("load.start")["t"]
    durations = records["duration_ms"].to_numpy()

    def spread(values) -> dict:  # the harness's one percentile (exact nearest rank), as in report.json
        pcts = (5, 50, 95)
        return {f"p{q}": None if v is None else round(v, 1) for q, v in zip(pcts, percentiles_ms(values, pcts))}

    in_windows = lambda kinds: np.concatenate([durations[(offsets >= w["start_s"]) & (offsets < w["end_s"])]  # noqa: E731
                                               for w in windows if w["kind"] in kinds])
    base = {"no_fault_ms": spread(in_windows(("baseline", "recovery")))}
    for level in LEVELS_MS:
        w = next(w for w in windows if w["name"] == f"fault:latency-{level}")
        inside = durations[(offsets >= w["start_s"]) & (offsets < w["end_s"])]
        base[f"fault_{level}_minus_injected_ms"] = spread(inside - level)
    return {"levels": levels, "base_latency": base, "no_fault_p50_ms": no_fault, "run_id": run.report["run_id"],
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
            bare = bare_locust(LOCUSTFILES / "version.py", url, 60, 60, BARE_RUN_S, work / f"locust-latency-{level}")
        finally:
            if level:
                client.remove_toxic("api", f"bench-{level}")
        p50[level] = bare.percentiles_ms["p50"]
        log(f"latency: bare locust at +{level} ms: p50 {p50[level]} ms over {bare.requests} requests")
    levels = {}
    for level in LEVELS_MS:
        added = p50[level] - p50[0]
        levels[str(level)] = {"p50_ms": p50[level], "added_p50_ms": added,
                              "error_pct": round(100 * abs(added - level) / level, 3)}
    return {"no_fault_p50_ms": p50[0], "levels": levels}


def run(work: Path, toxi: StackHandle) -> list[Row]:
    """REPEATS harness runs; each gives its largest error of the three levels; the row is their
    median, bounded at 90 % (bench/confidence.py: with 4 runs the bound is the largest)."""
    runs = []
    for i in range(REPEATS):
        ours = _ours(work, i)
        for level, figures in ours["levels"].items():
            log(f"latency: run {i + 1}: +{level} ms injected, harness measured +{figures['added_p50_ms']} ms "
                f"({figures['error_pct']}% off)")
        runs.append(ours)
    locust = _locusts(work, toxi)
    errors = [max(f["error_pct"] for f in ours["levels"].values()) for ours in runs]
    return [Row("latency_accuracy_error", round(statistics.median(errors), 3), "<=", 1.0, "%",
                {"harness": runs, "bare_locust": locust, "largest_error_pct_per_run": errors}, samples=errors)]
