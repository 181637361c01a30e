"""The analysis equivalence check (bench/check_analysis.py) as part of ``make test``: the
optimised analysis (percentiles, window metrics, degraded steps, fault summaries, series,
load_records, a whole report) gives exactly the numbers of the plain reference in
bench/reference/analysis.py, whose percentiles are brute force from the one definition."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bench import check_analysis as check

CASES = 60
"""Random cases per function (``python -m bench.check_analysis`` runs 120)."""


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NaN casts and empty means, in both versions alike
        yield


def rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def test_percentiles_equal_the_brute_force_nearest_rank():
    assert check.check_percentiles(rng(), CASES) == []


def test_window_metrics_equal_the_reference():
    assert check.check_metrics(rng(), CASES) == []


def test_degraded_steps_fault_summaries_and_series_equal_the_reference():
    assert check.check_steps(rng(), CASES) == []


def test_load_records_equal_the_reference(tmp_path):
    assert check.check_load_records(tmp_path) == []


def test_a_whole_report_is_byte_identical_to_the_references(tmp_path):
    assert check.check_reports(tmp_path, records=60_000) == []


def test_the_check_can_fail_a_percentile_off_by_one_rank(monkeypatch):
    """The check resolves a one-rank error: a percentile that takes the next value up differs."""
    from harness.analysis import percentile as module

    real = module.percentiles_ms

    def off_by_one(values, percentiles):
        out = real(values, percentiles)
        ordered = np.sort(np.asarray(values, dtype=float))
        ordered = ordered[~np.isnan(ordered)]
        return [v if v is None or not len(ordered) else float(ordered[min(np.searchsorted(ordered, v, "right"),
                                                                              len(ordered) - 1)]) for v in out]

    monkeypatch.setattr(check, "percentiles_ms", off_by_one)
    assert check.check_percentiles(rng(), 20) != []
