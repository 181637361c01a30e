"""``fault_onset_p95_ms``: from a fault's scheduled inject time to the first request that saw it.

One ``harness run`` of bench/scenarios/onset.yaml: a 300 ms latency fault injected 20 times
(every 0.9 s, 0.5 s each) on a proxy in front of a fast upstream, under an open-model load of
250 requests/s (one request every 4 ms). For inject ``k`` the schedule says
``t0 + at_s + k * every_s`` (t0: ``load.start``). A request saw the fault when it came back at
least 80 % of the latency late; the moment it saw it is when its response would have arrived
without the fault (``start + duration - latency``): for a request sent after the toxic was in
place that is its start plus its base latency, for one already in flight it is when its
response reached the toxic. The onset of an inject is the earliest such moment minus the
scheduled time; the row is the 95th percentile over the 20 injects (the harness's one
percentile, :func:`harness.analysis.percentile.percentile_ms`: exact nearest rank, here the 19th
smallest of the 20 onsets; so are the other percentiles below).

Beside it, from the journal: how late the harness started each inject (``fault.inject`` time
minus scheduled) and how long Toxiproxy's API took (``took_ms``).
"""

from __future__ import annotations

from pathlib import Path

from bench.common import SCENARIOS, Row, harness_run, log
from harness.analysis.percentile import percentile_ms

LATENCY_MS = 300.0
AT_S, EVERY_S, DURATION_S, INJECTS = 1.0, 0.9, 0.5, 20
SAW_IT = 0.8
"""A request saw the fault when it was at least this fraction of the latency late."""


def onsets(records, t0: float) -> list[float | None]:
    """Onset (ms) of each scheduled inject, from the records (start_s, duration_ms arrays)."""
    start, duration = records
    seen_at = start + duration / 1000 - LATENCY_MS / 1000
    affected = duration >= SAW_IT * LATENCY_MS
    out: list[float | None] = []
    for k in range(INJECTS):
        scheduled = t0 + AT_S + k * EVERY_S
        mine = affected & (seen_at >= scheduled - 0.3) & (seen_at < scheduled + DURATION_S)
        out.append(round(float((seen_at[mine].min() - scheduled) * 1000), 2) if mine.any() else None)
    return out


def _p95(values: list) -> str:
    """The p95 of ``values`` (None entries left out, as NaN) for the log, to 0.1 ms."""
    value = percentile_ms([float("nan") if v is None else v for v in values], 95)
    return "n/a" if value is None else f"{value:.1f}"


def run(work: Path) -> list[Row]:
    from harness.analysis.metrics import load_records

    result = harness_run(SCENARIOS / "onset.yaml", work / "onset-run")
    if result.returncode != 0:
        raise RuntimeError(f"onset run exited {result.returncode}: {result.report.get('error')}")
    t0 = result.event("load.start")["t"]
    frame = load_records(result.run_dir / "requests.tsv")
    found = onsets((frame["start_s"].to_numpy(), frame["duration_ms"].to_numpy()), t0)
    injects = [e for e in result.journal() if e["event"] == "fault.inject"]
    lag_ms = [round((e["t"] - (t0 + AT_S + k * EVERY_S)) * 1000, 2) for k, e in enumerate(injects)]
    took_ms = [e.get("took_ms") for e in injects]
    measured = [o for o in found if o is not None]
    value = round(percentile_ms(measured, 95), 2) if len(measured) == INJECTS else None
    log(f"onset: {len(measured)} of {INJECTS} injects seen; p95 {value} ms; "
        f"inject started late by p95 {_p95(lag_ms)} ms, API took p95 {_p95(took_ms)} ms")
    detail = {"onset_ms": found, "onset_p50_ms": round(percentile_ms(measured, 50), 2) if measured else None,
              "onset_max_ms": max(measured) if measured else None, "inject_lag_ms": lag_ms, "api_took_ms": took_ms,
              "requests": len(frame), "unsent": result.report["load"]["unsent"], "run_id": result.report["run_id"]}
    return [Row("fault_onset_p95_ms", value, "<=", 50.0, "ms", detail)]
