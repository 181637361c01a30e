"""One percentile: the definition (exact nearest rank) on hand-made arrays, and the same p50/p95/p99
from the window metrics, the steady state, the per-second series, the checks' helper and the
compare's bootstrap statistic, on data where any interpolation, bucket rounding or mean of
per-second percentiles gives another number."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from harness.analysis import percentile as P
from harness.analysis.metrics import window_metrics
from harness.analysis.percentile import (
    GroupedDurations,
    min_samples_for,
    nearest_rank,
    nearest_ranks,
    percentile_ms,
    percentiles_ms,
)
from harness.analysis.series import request_series
from harness.analysis.steady_state import Limit, _value, judge_steps
from harness.analysis.windows import Window
from harness.checks._evidence_tools import percentile_ms as checks_percentile_ms
from harness.compare import compare_paths, compare_reports, parse_limit
from harness.compare.core import latency_samples
from harness.compare.latencies import RunLatencies

T0 = 1_000_000.0

# --- the definition ------------------------------------------------------------------------


def test_one_to_a_hundred():
    values = np.arange(1, 101, dtype=float)
    assert percentiles_ms(values, [0, 1, 50, 90, 95, 99, 99.9, 100]) == [1, 1, 50, 90, 95, 99, 100, 100]
    assert percentile_ms(values[::-1].copy(), 99) == 99  # order does not matter


def test_four_values_and_no_interpolation():
    assert percentiles_ms([1, 2, 3, 4], [25, 50, 75, 76, 100]) == [1, 2, 3, 4, 4]
    assert percentile_ms([1.0, 2.0], 50) == 1.0  # linear interpolation: 1.5
    assert percentile_ms([10.0, 20.0, 30.0, 40.0], 90) == 40.0  # linear: 37


def test_a_single_value_is_every_percentile_and_nothing_is_none():
    assert percentiles_ms([7.25], [0, 50, 99, 100]) == [7.25] * 4
    assert percentile_ms([], 99) is None
    assert percentiles_ms(np.array([]), [50, 99]) == [None, None]


def test_the_rank_is_exact_where_floating_point_is_not():
    # 99.9 / 100 * 1000 is 999.0000000000001 in floating point: ceil would give rank 1000
    assert percentile_ms(np.arange(1, 1001, dtype=float), 99.9) == 999
    assert nearest_rank(1000, 99.9) == 999 and nearest_rank(10, 95) == 10 and nearest_rank(3, 0) == 1
    assert nearest_rank(100_000, 99.99) == 99_990


def test_nan_is_dropped_and_infinities_are_ordered():
    assert percentiles_ms([np.nan, 3.0, 1.0, np.nan, 2.0], [50, 100]) == [2.0, 3.0]
    assert percentile_ms([np.nan, np.nan], 50) is None
    assert percentiles_ms([1.0, np.inf, -np.inf], [0, 50, 100]) == [-np.inf, 1.0, np.inf]
    assert percentile_ms(pd.Series([1.0, None, 5.0], dtype="Float64"), 99) == 5.0  # pd.NA


@pytest.mark.parametrize("pct", [-1, 100.5, math.nan, math.inf, "99", None, True])
def test_a_percentile_outside_0_100_is_refused(pct):
    with pytest.raises(ValueError, match="in \\[0, 100\\]"):
        percentile_ms([1.0], pct)


def test_the_input_is_not_modified_and_the_result_is_a_value_never_above_the_max():
    rng = np.random.default_rng(3)
    values = rng.lognormal(2, 1, 1001)
    copy = values.copy()
    got = percentiles_ms(values, [50, 90, 99, 99.9, 100])
    assert np.array_equal(values, copy)
    assert all(v in set(values.tolist()) for v in got) and got[-2] <= got[-1] == values.max()
    ordered = np.sort(values)
    for pct, v in zip([50, 90, 99, 99.9], got):
        rank = math.ceil(pct * 1001 / 100)  # exact here: none of these is a whole number
        assert v == ordered[rank - 1]
        assert np.sum(values <= v) >= pct / 100 * len(values) > np.sum(values < v)


def test_minimum_sample_sizes():
    assert [min_samples_for(p) for p in (0, 50, 90, 95, 99, 99.9, 99.99, 100)] == [1, 2, 10, 20, 100, 1000, 10000, 1]


def test_vectorised_ranks_are_the_scalar_ranks():
    counts = np.arange(1, 3000)
    for pct in (0, 50, 95, 99, 99.9, 33.3):
        assert nearest_ranks(counts, pct).tolist() == [nearest_rank(int(c), pct) for c in counts]
    huge = np.array([1, 7, 10**12])  # numerator * count would overflow int64: exact Python ints
    assert nearest_ranks(huge, 1e-7).tolist() == [nearest_rank(int(c), 1e-7) for c in huge]


@pytest.mark.parametrize("blocks, direct", [(256, 256), (4, 4), (2, 3)])
def test_weighted_unions_of_groups_are_the_percentile_of_the_concatenation(monkeypatch, blocks, direct):
    monkeypatch.setattr(P, "BLOCKS", blocks)
    monkeypatch.setattr(P, "DIRECT_SEGMENT", direct)
    rng = np.random.default_rng(blocks)
    pcts = [0, 50, 95, 99, 99.9, 100]
    for _ in range(25):
        groups = [np.round(rng.lognormal(1, 1.5, int(rng.integers(0, 300))), int(rng.integers(0, 3)))
                  for _ in range(int(rng.integers(1, 12)))]
        groups[0] = np.append(groups[0], np.nan)
        weights = rng.integers(0, 4, (12, len(groups)))
        grouped = GroupedDurations(groups)
        got = grouped.percentiles_ms(weights, pcts)
        again = GroupedDurations.from_sorted(grouped.sorted_ms, grouped.labels, len(groups))
        assert np.array_equal(again.percentiles_ms(weights, pcts), got, equal_nan=True)
        for row, w in zip(got, weights):
            union = np.concatenate([np.tile(g, k) for g, k in zip(groups, w)])
            want = [math.nan if v is None else v for v in percentiles_ms(union, pcts)]
            assert np.array_equal(row, want, equal_nan=True)


# --- one p99 everywhere ------------------------------------------------------------------------

def _tricky_seconds(seconds: int = 3) -> list[np.ndarray]:
    """Per second, 150 distinct latencies (3 decimals) on which linear interpolation, HdrHistogram
    buckets and nearest rank all give different p50/p95/p99; the seconds differ from each other,
    so the mean of per-second p99s is not the p99 of the whole."""
    rng = np.random.default_rng(17)
    return [np.round(rng.lognormal(np.log(40 * (s + 1)), 0.8, 150) + 1000.0 * (s == 1), 3) for s in range(seconds)]


def _frame(per_second: list[np.ndarray]) -> pd.DataFrame:
    rows = []
    for s, durations in enumerate(per_second):
        starts = s + np.linspace(0.0, 0.99, len(durations))
        rows += [(T0 + t, d, "GET /x", 200, "", 1) for t, d in zip(starts, durations)]
    frame = pd.DataFrame(rows, columns=["start_s", "duration_ms", "name", "status", "error", "bytes"])
    return frame.assign(offset_s=frame["start_s"] - T0)


def _linear(values: np.ndarray, pct: float) -> float:
    return float(np.percentile(values, pct))


def test_the_data_tells_the_definitions_apart():
    for second in _tricky_seconds():
        for pct in (50, 95, 99):
            assert percentile_ms(second, pct) != round(_linear(second, pct), 3)
    everything = np.concatenate(_tricky_seconds())
    assert percentile_ms(everything, 99) != np.mean([percentile_ms(s, 99) for s in _tricky_seconds()])


def test_windows_steady_state_series_and_checks_give_the_same_percentiles():
    seconds = _tricky_seconds()
    frame = _frame(seconds)
    everything = np.concatenate(seconds)
    overall, by_name = window_metrics(frame, T0, Window("w", "baseline", 0, 3))
    assert (overall.p50_ms, overall.p90_ms, overall.p95_ms, overall.p99_ms, overall.p999_ms, overall.max_ms) == \
        tuple(percentiles_ms(everything, [50, 90, 95, 99, 99.9, 100]))
    assert by_name["GET /x"].p99_ms == overall.p99_ms
    assert checks_percentile_ms(frame, 99) == overall.p99_ms
    series = request_series(frame, 3.0)
    offsets, durations = frame["offset_s"].to_numpy(), frame["duration_ms"].to_numpy()
    errors = np.zeros(len(frame), dtype=bool)
    for s, second in enumerate(seconds):
        mine = (offsets >= s) & (offsets < s + 1)
        for pct, column in ((50, series.p50_ms), (95, series.p95_ms), (99, series.p99_ms)):
            exact = percentile_ms(second, pct)
            assert column[s] == exact
            assert _value(f"p{pct}_ms", durations[mine], errors[mine], 1.0) == exact


@pytest.mark.parametrize("pct", [50, 95, 99])
def test_the_steady_state_shortcut_decides_exactly_at_the_percentile(pct):
    seconds = _tricky_seconds()
    frame = _frame(seconds)
    offsets, durations = frame["offset_s"].to_numpy(), frame["duration_ms"].to_numpy()
    errors = np.zeros(len(frame), dtype=bool)
    steps = np.array([0.0, 1.0, 2.0])
    for s, second in enumerate(seconds):
        exact = percentile_ms(second, pct)
        below, above = np.nextafter(exact, -np.inf), np.nextafter(exact, np.inf)
        for op, value, degraded in (("<=", exact, False), ("<", exact, True), ("<", above, False),
                                    ("<=", below, True), (">=", exact, False), (">", exact, True),
                                    (">", below, False), (">=", above, True)):
            got = judge_steps(offsets, durations, errors, steps, 3.0, [Limit(f"p{pct}_ms", op, float(value))])
            assert bool(got[s]) is degraded, (s, op, value)


def test_the_compare_statistic_is_the_window_percentile_not_a_mean_of_seconds():
    seconds = _tricky_seconds()
    frame = _frame(seconds)
    latencies = RunLatencies(frame["offset_s"].to_numpy(), frame["duration_ms"].to_numpy())
    overall, _ = window_metrics(frame, T0, Window("w", "baseline", 0, 3))
    for metric in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms"):
        samples = latency_samples(latencies, metric, 0.0, 3.0)
        assert samples.n == 3 and samples.requests == 450
        assert samples.statistic() == getattr(overall, metric)
        # resampling every second once is the window itself; one second three times is that second
        assert samples.statistic(np.array([[0, 1, 2], [1, 1, 1]])).tolist() == [
            getattr(overall, metric), percentile_ms(seconds[1], samples.pct)]


# --- compare end to end, from run directories ------------------------------------------------

SCENARIO = {
    "name": "one-percentile",
    "proxies": [{"name": "catalog", "listen": "0.0.0.0:18080", "upstream": "catalog:8080"}],
    "load": {"host": "http://lb:8080", "duration_s": 30, "requests": [{"path": "/products/1"}]},
    "faults": [{"name": "slow", "kind": "latency", "proxy": "catalog", "latency_ms": 100, "at_s": 10,
                "duration_s": 10}],
    "expectations": [{"name": "few errors", "window": "baseline", "metric": "error_rate", "<": 0.5}],
}


def _run_dir(path, slow_factor: float, seed: int):
    """A run directory as ``harness run`` leaves it (journal.jsonl, requests.tsv) with its reports:
    30 s at 200 requests/s, the fault window [10.002, 20.003) ``slow_factor`` times slower."""
    from harness.report import build_report
    from harness.scenario.models import Scenario

    path.mkdir()
    events = [("run.start", -5.0, {"run_id": f"run-{path.name}", "seed": 1, "scenario": "one-percentile"}),
              ("load.start", 0.0, {}), ("fault.inject", 10.002, {"fault": "slow", "kind": "latency"}),
              ("fault.revert", 20.003, {"fault": "slow", "kind": "latency"}), ("load.stop", 30.0, {"records": 6000}),
              ("run.end", 31.0, {"status": "completed", "error": None})]
    with (path / "journal.jsonl").open("w") as f:
        for name, at, fields in events:
            f.write(json.dumps({"event": name, "at": "2026-01-01T00:00:00.000Z", "t": T0 + at, **fields}) + "\n")
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0, 30, 6000))
    durations = rng.lognormal(np.log(20), 0.5, 6000)
    durations[(offsets >= 10.002) & (offsets < 20.003)] *= slow_factor
    with (path / "requests.tsv").open("w") as f:
        for t, d in zip(offsets, durations):
            f.write(f"{T0 + t:.6f}\t{d:.3f}\tGET /x\t200\t\t10\n")
    report = build_report(path, Scenario.model_validate(SCENARIO))
    (path / "report.json").write_text(report.model_dump_json(indent=2))  # the renderings are not needed
    return report


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return root, _run_dir(root / "before", 1.0, 1), _run_dir(root / "after", 3.0, 2)


def test_compare_resamples_the_raw_latencies_with_the_one_percentile(two_runs, tmp_path):
    root, before, after = two_runs
    gate = parse_limit("p90_ms=1000%")  # p90 is compared when a gate names it
    comparison, _ = compare_paths(root / "before", root / "after", [gate], out_dir=tmp_path)
    rows = {(m.window, m.metric): m for m in comparison.metrics}
    for window in ("baseline", "fault:slow", "recovery:slow", "run"):
        for metric in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms"):
            m = rows[(window, metric)]
            assert m.significant is not None and m.n_before >= 10, m
            assert m.note is None, m.note  # the raw latencies give the report's own percentiles
    slow = rows[("fault:slow", "p99_ms")]
    assert slow.significant is True and slow.ci_low > 0 and slow.direction == "worse"
    assert rows[("baseline", "p99_ms")].significant is False
    lat = RunLatencies(*_offsets_and_durations(root / "before"))
    for w in before.windows:
        assert latency_samples(lat, "p99_ms", w.start_s, w.end_s).statistic() == w.metrics.p99_ms


def test_a_percentile_needs_enough_requests_for_a_verdict(two_runs):
    root, before, after = two_runs
    offsets, durations = _offsets_and_durations(root / "before")
    few = RunLatencies(offsets[::10], durations[::10])  # 200 requests in each 10 s window
    comparison = compare_reports(before, after, before_latencies=few,
                                 after_latencies=RunLatencies(*_offsets_and_durations(root / "after")))
    rows = {(m.window, m.metric): m for m in comparison.metrics}
    assert rows[("fault:slow", "p99_ms")].significant is True  # 100 needed
    p999 = rows[("fault:slow", "p999_ms")]
    assert p999.significant is None and "too few requests" in p999.note and "1000 needed" in p999.note


def _offsets_and_durations(run_dir):
    frame = pd.read_csv(run_dir / "requests.tsv", sep="\t", header=None)
    return frame[0].to_numpy() - T0, frame[1].to_numpy()


def test_without_raw_latencies_latency_percentiles_get_no_verdict(two_runs, tmp_path):
    root, before, after = two_runs
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "report.json").write_text((root / "before" / "report.json").read_text())
    comparison, _ = compare_paths(alone, root / "after", [], out_dir=tmp_path)
    p99 = next(m for m in comparison.metrics if m.window == "fault:slow" and m.metric == "p99_ms")
    assert p99.significant is None and "missing for BEFORE" in p99.note
    assert any(w.startswith("BEFORE: no requests.tsv") for w in comparison.warnings)
    rps = next(m for m in comparison.metrics if m.window == "fault:slow" and m.metric == "rps")
    assert rps.significant is not None  # counts still come from the series


def test_a_report_whose_percentiles_are_not_its_records_is_flagged(two_runs, tmp_path):
    root, before, after = two_runs
    old = tmp_path / "old"
    old.mkdir()
    for name in ("journal.jsonl", "requests.tsv"):
        (old / name).write_text((root / "before" / name).read_text())
    data = json.loads((root / "before" / "report.json").read_text())
    window = next(w for w in data["windows"] if w["name"] == "fault:slow")
    window["metrics"]["p99_ms"] += 0.25  # what an HdrHistogram bucket would have said
    (old / "report.json").write_text(json.dumps(data))
    comparison, _ = compare_paths(old, root / "after", [], out_dir=tmp_path)
    p99 = next(m for m in comparison.metrics if m.window == "fault:slow" and m.metric == "p99_ms")
    assert "is not the exact percentile of its requests.tsv" in p99.note
