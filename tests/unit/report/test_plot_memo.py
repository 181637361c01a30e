"""Plots drawn once per set of inputs: ``harness run`` draws a provisional report's plots while the
stack goes down (harness.run.report.PlotsAhead), and the final report reuses only the plots whose
inputs did not change, so its page is what it would have been without the head start."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

from bench.analysis_5m import SCENARIO, make_run_dir
from harness.redact import Redactor
from harness.report import build_report
from harness.report.html import render_html
from harness.report.plots import DRAWN, PlotMemo, report_plots
from harness.run.report import PlotsAhead
from harness.scenario import load_scenario
from tests.unit.report.conftest import make_report


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, report) -> bytes:  # noqa: ANN001
        self.calls += 1
        return b"png %d" % self.calls


def test_the_same_inputs_are_drawn_once_and_the_status_is_not_an_input():
    memo, plot = PlotMemo(), Counting()
    report = make_report()
    first = memo.draw("latency", plot, report)
    again = memo.draw("latency", plot, report.model_copy(update={"status": "failed", "error": "later"}))
    assert (first, again, plot.calls, memo.hits) == (b"png 1", b"png 1", 1, 1)


def test_a_changed_input_is_drawn_again():
    memo, latency, throughput = PlotMemo(), Counting(), Counting()
    report = make_report()
    for name, plot in (("latency", latency), ("throughput", throughput)):
        memo.draw(name, plot, report)
    flipped = [replace(e, held=not e.held) for e in report.expectations]
    assert flipped, "the synthetic report has expectations"
    other = report.model_copy(update={"expectations": flipped})
    memo.draw("latency", latency, other)  # the verdicts are drawn on the latency plot
    memo.draw("throughput", throughput, other)  # ... and not on the throughput plot
    assert (latency.calls, throughput.calls) == (2, 1)
    slower = make_report(fault_p99_ms=2500.0)
    memo.draw("throughput", throughput, slower)
    memo.draw("containers", Counting(), slower)
    assert throughput.calls == 2


def test_reused_plots_give_the_same_page():
    report = make_report()
    fresh = render_html(report)
    hits = DRAWN.hits
    assert render_html(report) == fresh
    assert DRAWN.hits == hits + 3  # latency, throughput, containers


def _provisional(run_dir):
    """The run directory as it stands during ``stack.down``: no ``stack.down`` nor ``run.end`` yet."""
    journal = run_dir / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(line for line in lines if json.loads(line)["event"] not in ("stack.down", "run.end")))
    return lines


def test_plots_drawn_ahead_during_the_teardown_are_the_final_reports(tmp_path):
    run_dir = make_run_dir(tmp_path / "run", records=20_000)
    loaded = load_scenario(SCENARIO)
    final_lines = _provisional(run_dir)
    idle = threading.Thread(target=lambda: None)  # the warm-up thread, never started here
    ahead = PlotsAhead(run_dir, lambda: loaded, Redactor([]), after=idle)
    ahead.start()
    ahead.join()
    (run_dir / "journal.jsonl").write_text("".join(final_lines))  # the teardown ended, the run completed
    report = build_report(run_dir, loaded.scenario)
    hits = DRAWN.hits
    drawn = report_plots(report)
    assert len(drawn) == 3 and DRAWN.hits == hits + 3  # all three were drawn ahead
    assert drawn == {name: uri for name, uri in _drawn_without_memo(report).items()}


def _drawn_without_memo(report):
    from harness.report.plots import PLOTS, data_uri

    return {name: data_uri(png) for name, plot in PLOTS if (png := plot(report))}
