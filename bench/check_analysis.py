"""The optimised analysis gives the very same numbers as the plain one: ``python -m bench.check_analysis``.

The functions optimised for the 5,000,000-record benchmark (harness/analysis/metrics.py,
steady_state.py, recovery.py, series.py, and the percentile itself, harness/analysis/
percentile.py) are compared with plain versions: bench/reference/analysis.py keeps the previous
versions verbatim, except that their percentiles are computed by brute force from the one
definition (sort, take the ``ceil(p/100 * n)``-th value; see its docstring):

1. the percentile: ``percentiles_ms`` and the weighted unions of
   ``GroupedDurations.percentiles_ms`` (the compare's bootstrap statistic) against the brute
   force, on random values with ties, NaN and infinities, at percentiles whose rank floating
   point gets wrong (p99.9 of 1000 values);
2. on random inputs (sorted and unsorted records, ``string`` and ``object`` columns, missing
   names and errors, NaN and infinite durations, many names, empty windows, limits of every
   metric and operator, percentiles exactly on a limit and limits equal to a recorded
   duration): window metrics and frames, degraded steps, fault summaries, per-second series,
   load_records;
3. on whole reports: ``build_report`` of a synthetic run (bench/analysis_5m.py, 300,000
   records) with the reference functions patched in, against the current ones: report.json
   must be byte-identical.

Exit 0 when everything is identical; 1 with the first differences otherwise.
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

from bench.reference import analysis as ref
from harness.analysis import metrics, recovery, series, steady_state
from harness.analysis.percentile import GroupedDurations, percentiles_ms
from harness.analysis.windows import Window

T0 = 1000.0


def _records(rng: np.random.Generator, n: int, case: int) -> pd.DataFrame:
    start = T0 + rng.uniform(-1, 12, n)
    if case % 3 == 0:
        start = np.sort(start)
    durations = [rng.lognormal(1, 2, n), np.round(rng.lognormal(3, 1, n), 3), np.full(n, 5.0),
                 rng.uniform(-5, 5e6, n)][case % 4].copy()
    if case % 5 == 0 and n:
        durations[rng.integers(0, n, 3)] = np.nan
    names = rng.choice(["GET /a", "POST /b", "GET /c"], n).astype(object)
    errors = rng.choice(["", "", "", "timeout", "http_503"], n).astype(object)
    frame = pd.DataFrame({"start_s": start, "duration_ms": durations, "name": names, "status": 200, "error": errors,
                          "bytes": 1})
    if case % 2 == 0:
        frame["name"] = frame["name"].astype("string")
        frame["error"] = frame["error"].astype("string")
    if case % 7 == 0 and n > 5:
        frame.loc[2, "name"] = None
        frame.loc[3, "error"] = None
    if case % 11 == 0:
        frame["name"] = rng.integers(0, 40, n).astype(str).astype(object)
    if case % 6 == 0:
        frame = frame.assign(offset_s=frame["start_s"] - T0).sort_values("offset_s", kind="stable")
    return frame


def check_percentiles(rng: np.random.Generator, cases: int) -> list[str]:
    """``percentiles_ms`` and ``GroupedDurations.percentiles_ms`` against the brute force."""
    problems = []
    pcts = [0, 1, 50, 90, 95, 99, 99.9, 99.99, 100, 33.3]
    for case in range(cases):
        n = int(rng.choice([1, 2, 3, 10, 100, 1000, 5000]))
        values = [np.arange(1, n + 1, dtype=float), np.round(rng.lognormal(1, 2, n), 1),
                  rng.integers(0, 5, n).astype(float), rng.uniform(-5, 5, n)][case % 4].copy()
        if case % 5 == 0:
            values[rng.integers(0, n, max(1, n // 10))] = np.nan
        if case % 7 == 0:
            values[rng.integers(0, n, 2)] = [np.inf, -np.inf]
        rng.shuffle(values)
        if percentiles_ms(values, pcts) != [ref.exact_percentile(values.tolist(), p) for p in pcts]:
            problems.append(f"percentiles_ms differs from the brute force (case {case}, n {n})")
        groups = np.array_split(values, int(rng.integers(1, 20)))
        weights = rng.integers(0, 4, (8, len(groups)))
        got = GroupedDurations(groups).percentiles_ms(weights, pcts)
        for row, w in zip(got, weights):
            union = [v for g, k in zip(groups, w.tolist()) for _ in range(k) for v in g.tolist()]
            want = [ref.exact_percentile(union, p) for p in pcts]
            if not np.array_equal(row, np.array([np.nan if v is None else v for v in want]), equal_nan=True):
                problems.append(f"GroupedDurations.percentiles_ms differs from the brute force (case {case})")
                break
    return problems


def check_metrics(rng: np.random.Generator, cases: int) -> list[str]:
    problems = []
    windows = [Window("w", "baseline", 0, 10), Window("w", "fault", 2.5, 3.7), Window("w", "fault", 20, 30),
               Window("w", "fault", 0, 0)]
    for case in range(cases):
        frame = _records(rng, int(rng.choice([0, 1, 2, 5, 50, 1000, 20000])), case)
        for w in windows:
            if repr(ref.window_metrics(frame, T0, w)) != repr(metrics.window_metrics(frame, T0, w)):
                problems.append(f"window_metrics differ (case {case}, window {w.start_s}-{w.end_s})")
            a, b = ref.frame_of(frame, T0, w), metrics.frame_of(frame, T0, w)
            if not (a.equals(b) and a.index.equals(b.index) and list(a.dtypes) == list(b.dtypes)):
                problems.append(f"frame_of differs (case {case})")
    return problems


def check_steps(rng: np.random.Generator, cases: int) -> list[str]:
    problems = []
    ops = ["<", "<=", ">", ">="]
    for case in range(cases):
        n = int(rng.choice([0, 1, 3, 100, 3000, 20000]))
        end = float(rng.choice([5.0, 20.0, 33.3]))
        offsets = np.sort(rng.uniform(-0.5, end + 0.5, n))
        if case % 4 == 0:
            offsets = offsets[(offsets % 5) < 3]  # seconds without requests
        m = len(offsets)
        durations = [np.round(rng.lognormal(2, 1, m)), rng.integers(1, 5, m).astype(float), rng.lognormal(3, 2, m),
                     np.full(m, 10.0), np.round(rng.uniform(0, 100, m), 3)][case % 5]
        if case % 13 == 0 and m > 10:
            durations[5] = np.nan
        if case % 17 == 0 and m > 10:
            durations[6] = np.inf
        errors = rng.random(m) < [0, 0.01, 0.3, 0.05, 1.0][case % 5]
        limits = []
        for _ in range(int(rng.integers(1, 4))):
            metric = str(rng.choice(["p95_ms", "p50_ms", "p99_ms", "p999_ms", "p90_ms", "error_rate", "success_rate",
                                     "rps", "requests", "max_ms", "mean_ms"]))
            if metric.endswith("_ms"):  # values percentiles land on exactly: integers, recorded durations
                recorded = float(durations[rng.integers(0, m)]) if m else 1.0
                value = float(rng.choice([10.0, 2.0, 3.0, 7.389, float(np.nanmedian(durations)) if m else 1.0, 0.0,
                                          recorded]))
            elif metric == "rps":
                value = float(rng.choice([n / end / 2, 100.0, 3.0]))
            elif metric == "requests":
                value = float(rng.integers(0, 50))
            else:
                value = float(rng.choice([0.02, 0.0, 0.3, 1.0]))
            limits.append(steady_state.Limit(metric, str(rng.choice(ops)), value))
        start_s, end_s = float(rng.uniform(-1, 2)), float(rng.uniform(2, end))
        a = ref.degraded_steps(offsets, durations, errors, start_s, end_s, limits)
        b = steady_state.degraded_steps(offsets, durations, errors, start_s, end_s, limits)
        if not (np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])):
            problems.append(f"degraded_steps differ (case {case}, limits {limits})")
            continue
        frame = pd.DataFrame({"start_s": offsets, "duration_ms": durations, "name": "x", "status": 200,
                              "error": np.where(errors, "timeout", ""), "bytes": 1})
        if case % 2:
            frame["error"] = frame["error"].astype("string")
        frame = frame.assign(offset_s=frame["start_s"])
        window = Window("fault:x", "fault", start_s, end_s, "x")
        recovered_after = float(rng.choice([0.1, 1.0, 3.0]))
        flags = metrics.failed_flags(frame["error"])  # as the report builder passes its RowFacts' flags
        expected = repr(ref.summarize_fault(window, frame, end, limits, recovered_after))
        if {repr(recovery.summarize_fault(window, frame, end, limits, recovered_after, failed))
                for failed in (None, flags)} != {expected}:
            problems.append(f"summarize_fault differs (case {case})")
        expected = repr(ref.request_series(frame, end))
        if {repr(series.request_series(frame, end, failed)) for failed in (None, flags)} != {expected}:
            problems.append(f"request_series differs (case {case})")
    return problems


def check_load_records(work: Path) -> list[str]:
    from bench.analysis_5m import _records

    _records(work, 50_000)
    path = work / "requests.tsv"
    with path.open("a") as f:  # a line with a field too many is skipped by both
        f.write("1.0\t2.0\tx\t200\t\t5\textra\n")
    a, b = ref.load_records(path), metrics.load_records(path)
    ok = a.equals(b) and a.dtypes.to_dict() == b.dtypes.to_dict()
    return [] if ok else ["load_records differs"]


def check_reports(work: Path, records: int = 300_000) -> list[str]:
    from bench.analysis_5m import SCENARIO, make_run_dir
    from harness.analysis import evidence
    from harness.report import build as build_module
    from harness.scenario import load_scenario

    make_run_dir(work / "run", records=records)
    scenario = load_scenario(SCENARIO).scenario
    current = build_module.build_report(work / "run", scenario).model_dump_json(indent=2)
    with mock.patch.object(build_module, "load_records", ref.load_records), \
            mock.patch.object(build_module, "summarize_fault", ref.summarize_fault), \
            mock.patch.object(build_module, "by_offset", ref.by_offset), \
            mock.patch.object(build_module, "request_series", ref.request_series), \
            mock.patch.object(evidence, "window_metrics", ref.window_metrics), \
            mock.patch.object(evidence, "frame_of", ref.frame_of):
        before = build_module.build_report(work / "run", scenario).model_dump_json(indent=2)
    if current == before:
        return []
    diff = next(i for i, (x, y) in enumerate(zip(current, before)) if x != y)
    return [f"report.json differs from character {diff}: ...{current[diff - 80:diff + 80]}... vs "
            f"...{before[diff - 80:diff + 80]}..."]


def main(cases: int = 120) -> int:
    warnings.simplefilter("ignore")  # NaN casts and empty means, in both versions alike
    rng = np.random.default_rng(20261121)
    with tempfile.TemporaryDirectory(prefix="harness-check-analysis-") as tmp:
        problems = check_percentiles(rng, cases) + check_metrics(rng, cases) + check_steps(rng, cases)
        problems += check_load_records(Path(tmp))
        problems += check_reports(Path(tmp))
    for p in problems[:20]:
        print(f"DIFFERENT: {p}")
    print(f"analysis equivalence: {'identical' if not problems else f'{len(problems)} difference(s)'} "
          f"({cases} random cases per function against the reference with brute-force nearest-rank percentiles, "
          "and a whole report of 300,000 records)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
