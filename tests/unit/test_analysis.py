"""Window slicing, window metrics (exact nearest-rank percentiles) and verdicts, on hand-made
journals and records."""

import pandas as pd
import pytest

from harness.analysis import slice_windows, window_metrics
from harness.checks import evaluate
from harness.analysis.evidence import Evidence
from harness.analysis.windows import Window
from harness.journal import Event
from harness.scenario.models import Threshold

T0 = 1_000_000.0


def ev(name, offset_s, **fields):
    return Event(name, T0 + offset_s, fields)


JOURNAL = [
    ev("run.start", -10),
    ev("load.start", 0),
    ev("fault.inject", 10, fault="slow"),
    ev("fault.revert", 20, fault="slow"),
    ev("fault.inject", 30, fault="kill"),
    ev("fault.revert", 35, fault="kill"),
    ev("load.stop", 50),
]


def test_windows_follow_actual_inject_and_revert_times():
    windows, run = slice_windows(JOURNAL)
    assert [(w.name, w.kind, w.start_s, w.end_s) for w in windows] == [
        ("baseline", "baseline", 0, 10),
        ("fault:slow", "fault", 10, 20),
        ("recovery:slow", "recovery", 20, 30),
        ("fault:kill", "fault", 30, 35),
        ("recovery:kill", "recovery", 35, 50),
    ]
    assert (run.start_s, run.end_s) == (0, 50)


def test_overlapping_and_intermittent_faults_get_their_own_windows():
    journal = [
        ev("load.start", 0),
        ev("fault.inject", 10, fault="a"),
        ev("fault.inject", 12, fault="b", occurrence=1),
        ev("fault.revert", 14, fault="b", occurrence=1),
        ev("fault.revert", 15, fault="a"),
        ev("fault.inject", 22, fault="b", occurrence=2),
        ev("fault.revert", 24, fault="b", occurrence=2),
        ev("load.stop", 30),
    ]
    windows, run = slice_windows(journal)
    assert [(w.name, w.start_s, w.end_s) for w in windows] == [
        ("baseline", 0, 10),
        ("fault:a", 10, 15),
        ("recovery:a", 15, 22),
        ("fault:b#1", 12, 14),
        ("recovery:b#1", 14, 22),
        ("fault:b#2", 22, 24),
        ("recovery:b#2", 24, 30),
    ]
    from harness.analysis.windows import select

    assert [w.name for w in select(windows, run, "fault:b")] == ["fault:b#1", "fault:b#2"]
    assert [w.name for w in select(windows, run, "fault:a")] == ["fault:a"]


def test_no_faults_means_one_baseline_window():
    windows, _ = slice_windows([ev("load.start", 0), ev("load.stop", 12.5)])
    assert [(w.name, w.start_s, w.end_s) for w in windows] == [("baseline", 0, 12.5)]


def test_unreverted_fault_runs_to_load_end_without_recovery():
    windows, _ = slice_windows([ev("load.start", 0), ev("fault.inject", 5, fault="x"), ev("load.stop", 9)])
    assert [(w.name, w.start_s, w.end_s) for w in windows] == [("baseline", 0, 5), ("fault:x", 5, 9)]


def test_no_load_start_is_an_error():
    with pytest.raises(ValueError, match="load never ran"):
        slice_windows([ev("run.start", 0)])


def records(rows):
    return pd.DataFrame(rows, columns=["start_s", "duration_ms", "name", "status", "error", "bytes"])


def test_requests_belong_to_the_window_they_started_in_and_percentiles_are_exact():
    rows = [(T0 + 0.5 + i * 0.009, float(i + 1), "GET /a", 200, "", 10) for i in range(1000)]  # 1..1000 ms in 0.5-9.5 s
    rows += [(T0 + 10.0, 5000.0, "GET /a", 0, "timeout", 0)]  # starts exactly at the fault window
    overall, by_name = window_metrics(records(rows), T0, Window("baseline", "baseline", 0, 10))
    assert overall.requests == 1000 and overall.rps == 100
    assert overall.error_rate == 0
    # nearest rank: the 500th and the 990th of 1..1000 ms, exactly (no bucket, no interpolation)
    assert (overall.p50_ms, overall.p90_ms, overall.p95_ms, overall.p99_ms) == (500, 900, 950, 990)
    assert (overall.p999_ms, overall.max_ms) == (999, 1000)
    assert by_name["GET /a"].requests == 1000
    fault, _ = window_metrics(records(rows), T0, Window("fault:x", "fault", 10, 20))
    assert (fault.requests, fault.error_rate, fault.errors) == (1, 1.0, {"timeout": 1})


def test_empty_window_has_no_latency():
    overall, by_name = window_metrics(records([]), T0, Window("baseline", "baseline", 0, 10))
    assert overall.requests == 0 and overall.p99_ms is None and by_name == {}


def test_window_percentiles_are_recorded_values_and_never_exceed_the_max():
    rows = [(T0 + 0.5, 1.0, "GET /a", 200, "", 1)] * 99 + [(T0 + 0.6, 100.0, "GET /a", 200, "", 1)]
    overall, _ = window_metrics(records(rows), T0, Window("baseline", "baseline", 0, 10))
    assert (overall.p99_ms, overall.p999_ms, overall.max_ms) == (1.0, 100.0, 100.0)
    rows = [(T0 + 0.5, d, "GET /a", 200, "", 1) for d in (1.234, 5.678)]
    overall, _ = window_metrics(records(rows), T0, Window("baseline", "baseline", 0, 10))
    assert (overall.p50_ms, overall.p99_ms, overall.max_ms) == (1.234, 5.678, 5.678)  # not 3.456, not 5.632


def test_verdicts_hold_fail_and_explain_with_numbers():
    windows, run = slice_windows(JOURNAL)
    rows = [(T0 + 12 + i * 0.01, 1500.0, "GET /p", 200, "", 1) for i in range(100)]
    rows += [(T0 + 1 + i * 0.01, 5.0, "GET /p", 200, "", 1) for i in range(100)]
    frame = records(rows)
    evidence = Evidence(windows=windows, run=run, metrics={}, records=frame, t0=T0)
    exps = [
        Threshold.model_validate({"window": "fault", "metric": "p99_ms", "<": 1000}),
        Threshold.model_validate({"window": "baseline", "metric": "p99_ms", "<": 1000, "request": "GET /p"}),
    ]
    results = evaluate(exps, evidence)
    by_window = {r.window: r for r in results}
    assert by_window["fault:slow"].held is False
    assert by_window["fault:slow"].observed == pytest.approx(1500, rel=0.001)
    assert "was 1500" in by_window["fault:slow"].explanation and "failed" in by_window["fault:slow"].explanation
    assert by_window["fault:kill"].held is False and by_window["fault:kill"].observed is None  # no requests
    assert by_window["fault:kill"].check == "threshold"
    assert by_window["baseline"].held is True
    assert by_window["baseline"].name == "[GET /p] p99_ms < 1000 in baseline"
    assert results[0].name.endswith("[fault:slow]")
