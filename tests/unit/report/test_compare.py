"""harness compare: arithmetic, significance on synthetic data, flipped verdicts, gates, exit
codes, and the files it writes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.compare import LimitError, compare_reports, parse_limit
from harness.compare.core import Limit, samples
from harness.compare.render import render_compare_html, render_compare_md
from harness.compare.stats import MIN_SAMPLES, Samples, block_indices, block_length, bootstrap_difference
from harness.report import write_reports
from tests.unit.report.conftest import HOSTILE, expectation, make_report, with_expectations

runner = CliRunner()


@pytest.fixture(scope="module")
def resilient():
    return make_report(fault_p99_ms=400.0, seed=1)


@pytest.fixture(scope="module")
def naive():
    return make_report(fault_p99_ms=1600.0, fault_error_rate=0.05, seed=2)


def row(comparison, window, metric):
    return next(m for m in comparison.metrics if m.window == window and m.metric == metric)


# --- limits -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, limit", [
    ("p99_ms=10%", Limit("p99_ms", 0.10, True)),
    ("error_rate=0.01", Limit("error_rate", 0.01, False)),
    (" rps = 5% ", Limit("rps", 0.05, True)),
    ("p99_ms@fault:catalog-slow=25%", Limit("p99_ms", 0.25, True, "fault:catalog-slow")),
    ("max_ms=1e3", Limit("max_ms", 1000.0, False)),
])
def test_limits_parse_relative_absolute_and_per_window(text, limit):
    assert parse_limit(text) == limit


@pytest.mark.parametrize("text", ["p99=10%", "p99_ms", "p99_ms=-1", "p99_ms=ten", "=5%"])
def test_bad_limits_are_refused_with_the_expected_form(text):
    with pytest.raises(LimitError, match="METRIC=LIMIT|unknown metric"):
        parse_limit(text)


# --- the bootstrap --------------------------------------------------------------------------

def test_blocks_are_runs_of_consecutive_seconds():
    assert [block_length(n) for n in (1, 8, 9, 27, 28, 100)] == [1, 2, 3, 3, 4, 5]
    idx = block_indices(10, 50, np.random.default_rng(0))
    assert idx.shape == (50, 10) and idx.min() >= 0 and idx.max() <= 9
    block = block_length(10)
    for r in idx:
        for start in range(0, 10, block):
            chunk = r[start:start + block]
            assert list(chunk) == list(range(chunk[0], chunk[0] + len(chunk)))


def test_a_large_shift_is_significant():
    rng = np.random.default_rng(7)
    before = Samples.mean_of(list(rng.normal(100, 10, 30)))
    after = Samples.mean_of(list(rng.normal(160, 10, 30)))
    iv = bootstrap_difference(before, after, seed=1)
    assert iv.significant is True and 40 < iv.low < iv.high < 80
    assert iv.p < 0.01
    assert iv.after - iv.before == pytest.approx(60, abs=8)


def test_the_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = np.random.default_rng(11)
    covered = 0
    for trial in range(100):
        before = Samples.mean_of(list(rng.normal(100, 10, 30)))
        after = Samples.mean_of(list(rng.normal(130, 10, 30)))
        iv = bootstrap_difference(before, after, seed=trial, resamples=1000)
        covered += iv.low <= 30 <= iv.high
    assert covered >= 85, covered


def test_the_same_distribution_is_not_significant():
    rng = np.random.default_rng(3)
    hits = 0
    for trial in range(20):
        before = Samples.mean_of(list(rng.normal(100, 20, 20)))
        after = Samples.mean_of(list(rng.normal(100, 20, 20)))
        hits += bool(bootstrap_difference(before, after, seed=trial).significant)
    assert hits <= 3  # about 5% false positives expected at 95%


def test_error_rate_is_a_ratio_of_sums():
    s = Samples.ratio_of([1, 0, 3], [10, 10, 20])
    assert s.statistic() == pytest.approx(4 / 40)


def test_too_few_seconds_give_no_verdict_and_results_are_deterministic():
    few = Samples.mean_of([1.0] * (MIN_SAMPLES - 1))
    many = Samples.mean_of([float(i) for i in range(10)])
    assert bootstrap_difference(few, many, seed=1).significant is None
    a = bootstrap_difference(many, Samples.mean_of([i + 3.0 for i in range(10)]), seed=5)
    b = bootstrap_difference(many, Samples.mean_of([i + 3.0 for i in range(10)]), seed=5)
    assert a == b


def test_window_samples_come_from_the_seconds_inside_the_window(resilient):
    s = samples(resilient, "rps", 10.0, 20.0)
    assert s.n == 10 and s.statistic() == 50
    errors = samples(resilient, "error_rate", 10.0, 20.0)
    assert errors.n == 10 and errors.statistic() == 0
    # latency percentiles are resampled from the raw latencies (requests.tsv), never from the
    # series' per-second percentiles: a mean of per-second p99s is not a p99
    assert samples(resilient, "p99_ms", 10.0, 20.0) is None
    assert samples(resilient, "max_ms", 10.0, 20.0) is None


# --- the comparison -------------------------------------------------------------------------

def test_arithmetic_of_before_after_delta_and_relative_change(resilient, naive):
    c = compare_reports(resilient, naive)
    m = row(c, "fault:catalog-slow", "p99_ms")
    b = next(w for w in resilient.windows if w.name == "fault:catalog-slow").metrics.p99_ms
    a = next(w for w in naive.windows if w.name == "fault:catalog-slow").metrics.p99_ms
    assert (m.before, m.after) == (b, a)
    assert m.delta == pytest.approx(a - b) and m.relative == pytest.approx((a - b) / b)
    # a report.json alone has no raw latencies: the change is measured, its significance is not
    assert m.direction == "worse" and m.significant is None and "missing for BEFORE and AFTER" in m.note
    rps = row(c, "fault:catalog-slow", "rps")
    assert rps.delta == 0 and rps.direction == "same" and rps.significant is False
    err = row(c, "fault:catalog-slow", "error_rate")
    assert err.before == 0 and err.relative is None and err.direction == "worse"
    assert {m.window for m in c.metrics} == {"baseline", "fault:catalog-slow", "recovery:catalog-slow", "run"}


def test_flipped_verdicts_regress_one_way_only(resilient, naive):
    forward = compare_reports(resilient, naive)
    assert forward.outcome == "regressed"
    (flip,) = forward.flipped
    assert (flip.name, flip.before, flip.after, flip.regression) == ("p99 bounded during catalog-slow", "held",
                                                                    "failed", True)
    assert forward.reasons == ["verdict flipped: 'p99 bounded during catalog-slow' held before, failed after"]
    backward = compare_reports(naive, resilient)
    assert backward.outcome == "ok" and backward.flipped[0].regression is False


def test_an_expectation_gone_or_inconclusive_after_counts_as_flipped(resilient):
    before = with_expectations(resilient, [expectation("a"), expectation("b")])
    after = with_expectations(resilient, [expectation("a", held=False, inconclusive=True), expectation("c")])
    verdicts = {v.name: (v.before, v.after, v.regression) for v in compare_reports(before, after).verdicts}
    assert verdicts == {"a": ("held", "inconclusive", True), "b": ("held", "absent", True),
                        "c": ("absent", "held", False)}


def test_relative_and_absolute_gates(resilient, naive):
    same = [expectation("x")]
    before, after = with_expectations(resilient, same), with_expectations(naive, same)
    assert compare_reports(before, after).outcome == "ok"  # no flip, no limit
    gated = compare_reports(before, after, [parse_limit("p99_ms=10%")])
    assert gated.outcome == "regressed"
    assert row(gated, "fault:catalog-slow", "p99_ms").regressed
    assert not row(gated, "baseline", "p99_ms").regressed  # the baseline did not change
    assert compare_reports(before, after, [parse_limit("p99_ms=1000%")]).outcome == "ok"
    assert compare_reports(before, after, [parse_limit("error_rate=0.01")]).outcome == "regressed"
    assert compare_reports(before, after, [parse_limit("error_rate=0.2")]).outcome == "ok"
    only_baseline = compare_reports(before, after, [parse_limit("p99_ms@baseline=10%")])
    assert only_baseline.outcome == "ok" and row(only_baseline, "fault:catalog-slow", "p99_ms").limit is None
    assert compare_reports(after, before, [parse_limit("rps=1%")]).outcome == "ok"  # same rps


def test_a_change_beyond_the_limit_that_is_not_significant_is_noise_unless_told_otherwise():
    before = make_report(seed=11, base_ms=40.0)
    after = make_report(seed=12, base_ms=40.0)
    b, a = with_expectations(before, [expectation("x")]), with_expectations(after, [expectation("x")])
    tiny = [parse_limit("error_rate@fault:catalog-slow=0.0001")]
    b = b.model_copy(update={"series": _with_errors(b, 12, 2)})
    a = a.model_copy(update={"series": _with_errors(a, 13, 3)})
    b = _with_window_error_rate(b, "fault:catalog-slow", 2 / 500)
    a = _with_window_error_rate(a, "fault:catalog-slow", 3 / 500)
    c = compare_reports(b, a, tiny)
    m = row(c, "fault:catalog-slow", "error_rate")
    assert m.direction == "worse" and m.significant is False and not m.regressed
    assert "not significant" in m.note and c.outcome == "ok"
    forced = compare_reports(b, a, tiny, ignore_significance=True) if c.before.run_id == b.run_id else \
        compare_reports(a, b, tiny, ignore_significance=True)
    assert forced.outcome == "regressed"


def test_an_inconclusive_run_makes_the_comparison_inconclusive(resilient, naive):
    broken = naive.model_copy(update={"status": "error", "error": "docker went away"})
    c = compare_reports(resilient, broken)
    assert c.outcome == "inconclusive" and c.reasons[0] == "AFTER run ended error: docker went away"


def test_renderings_escape_hostile_names(resilient):
    hostile = with_expectations(resilient, [expectation(HOSTILE)])
    c = compare_reports(hostile, with_expectations(resilient, [expectation(HOSTILE, held=False)]))
    html = render_compare_html(c, hostile, hostile)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img src=x" not in html
    assert 'src="data:image/png;base64,' in html
    md = render_compare_md(c)
    assert "<script>" not in md and "\\<script\\>" in md


# --- the command ----------------------------------------------------------------------------

def test_cli_exit_codes_and_files(tmp_path, resilient, naive):
    write_reports(resilient, tmp_path / "before")
    write_reports(naive, tmp_path / "after")
    forward = runner.invoke(app, ["compare", str(tmp_path / "before"), str(tmp_path / "after")])
    assert forward.exit_code == 1, forward.output
    assert "flipped p99 bounded during catalog-slow: held -> failed" in forward.output
    assert sorted(p.name for p in (tmp_path / "after").glob("compare.*")) == ["compare.html", "compare.json",
                                                                               "compare.md"]
    data = json.loads((tmp_path / "after" / "compare.json").read_text())
    assert data["outcome"] == "regressed" and data["verdicts"][1]["flipped"] is True

    out = tmp_path / "cmp"
    backward = runner.invoke(app, ["compare", str(tmp_path / "after" / "report.json"), str(tmp_path / "before"),
                                   "--out", str(out)])
    assert backward.exit_code == 0, backward.output
    assert (out / "compare.md").read_text().startswith("# Compare shop: OK")

    assert runner.invoke(app, ["compare", str(tmp_path / "before"), str(tmp_path / "after"),
                               "--max-regression", "p99=5"]).exit_code == 2
    assert runner.invoke(app, ["compare", str(tmp_path / "nope"), str(tmp_path / "after")]).exit_code == 2
    write_reports(naive.model_copy(update={"status": "interrupted"}), tmp_path / "cut")
    assert runner.invoke(app, ["compare", str(tmp_path / "before"), str(tmp_path / "cut")]).exit_code == 3


def _with_errors(report, second: int, count: int):
    """The report's series with ``count`` errors (http_503) in one second."""
    series = report.series.model_copy(deep=True)
    errors = series.requests.errors.setdefault("http_503", [0] * len(series.requests.t_s))
    errors[second] += count
    return series


def _with_window_error_rate(report, window: str, rate: float):
    windows = [w.model_copy(update={"metrics": w.metrics.__class__(**{**w.metrics.as_dict(), "error_rate": rate})})
               if w.name == window else w for w in report.windows]
    return report.model_copy(update={"windows": windows})
