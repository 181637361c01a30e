"""metrics.prom: the windows' metrics and the verdicts in Prometheus' text format, read back with
prometheus_client's own parser."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from harness.export import prometheus_text, read_run
from tests.unit.export.conftest import LOAD_START_S, write_run
from tests.unit.report.conftest import HOSTILE, expectation, make_report


def _families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _window(family, name: str) -> float:  # noqa: ANN001
    (sample,) = [s for s in family.samples if s.labels["window"] == name]
    return sample.value


def test_every_window_metric_reads_back_with_help_and_type(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path))
    text = prometheus_text(run)
    families = _families(text)
    for window in run.report.windows:
        m = window.metrics
        assert _window(families["harness_window_p99_seconds"], window.name) == m.p99_ms / 1000
        assert _window(families["harness_window_rps"], window.name) == m.rps
        assert _window(families["harness_window_error_rate"], window.name) == m.error_rate
        assert _window(families["harness_window_requests"], window.name) == m.requests
        assert _window(families["harness_window_start_timestamp_seconds"], window.name) == LOAD_START_S + window.start_s
    for name, family in families.items():
        assert family.type == "gauge" and family.documentation
        assert f"# HELP {name} " in text and f"# TYPE {name} gauge" in text
    sample = families["harness_window_p99_seconds"].samples[1]
    assert sample.labels == {"run_id": "run-shop-1", "scenario": "shop", "window": "fault:catalog-slow",
                             "kind": "fault", "fault": "catalog-slow"}


def test_verdicts_are_held_gauges_of_0_or_1(tmp_path: Path) -> None:
    report = make_report(expectations=[expectation("ok", held=True), expectation("bad", held=False),
                                       expectation("unsure", held=False, inconclusive=True, observed=None)])
    families = _families(prometheus_text(read_run(write_run(tmp_path, report))))
    held = {s.labels["expectation"]: (s.value, s.labels["outcome"])
            for s in families["harness_expectation_held"].samples}
    assert held == {"ok": (1, "held"), "bad": (0, "failed"), "unsure": (0, "inconclusive")}
    inconclusive = {s.labels["expectation"]: s.value for s in families["harness_expectation_inconclusive"].samples}
    assert inconclusive == {"ok": 0, "bad": 0, "unsure": 1}
    observed = {s.labels["expectation"] for s in families["harness_expectation_observed"].samples}
    assert observed == {"ok", "bad"}
    (status,) = families["harness_run_status"].samples
    assert status.labels["status"] == "failed" and status.value == 1


def test_hostile_names_are_escaped_and_read_back_exactly(tmp_path: Path) -> None:
    hostile = HOSTILE + '\nnew line \\ back "quote"'
    report = make_report(name=hostile, faults=(hostile,),
                         expectations=[expectation(hostile, window=f"fault:{hostile}")])
    text = prometheus_text(read_run(write_run(tmp_path, report)))
    assert '\\n' in text and '\\"quote\\"' in text
    families = _families(text)
    labels = {s.labels["window"] for s in families["harness_window_rps"].samples}
    assert labels == {"baseline", f"fault:{hostile}", f"recovery:{hostile}"}
    assert {s.labels["scenario"] for s in families["harness_window_rps"].samples} == {hostile}
    assert families["harness_expectation_held"].samples[0].labels["expectation"] == hostile


def test_a_window_without_requests_has_no_latency_sample(tmp_path: Path) -> None:
    report = make_report()
    empty = report.windows[0].model_copy(update={"metrics": type(report.windows[0].metrics)()})
    report = report.model_copy(update={"windows": [empty, *report.windows[1:]]})
    families = _families(prometheus_text(read_run(write_run(tmp_path, report))))
    assert "baseline" not in {s.labels["window"] for s in families["harness_window_p99_seconds"].samples}
    assert _window(families["harness_window_requests"], "baseline") == 0
