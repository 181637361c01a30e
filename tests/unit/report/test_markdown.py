"""report.md: at most 60 lines however long the run, failed expectations kept visible, cuts
noted, and scenario strings unable to break a table."""

from __future__ import annotations

import re

from harness.checks import ExpectationResult
from harness.report.markdown import MAX_LINES, render_markdown
from tests.unit.report.conftest import make_report, with_expectations


def long_report():
    faults = tuple(f"fault-{i}" for i in range(40))
    report = make_report(faults=faults, window_s=2, rps=3)
    expectations = [ExpectationResult(f"held {i}", True, 1.0, 2.0, "<", "baseline", "p99_ms", "fine") for i in range(80)]
    expectations.insert(57, ExpectationResult("the one that failed", False, 3.0, 2.0, "<", "fault:fault-33", "p99_ms",
                                              "p99_ms was 3 in fault:fault-33; it had to be below 2."))
    return with_expectations(report, expectations)


def test_a_short_run_is_rendered_whole():
    report = make_report()
    md = render_markdown(report)
    assert len(md.splitlines()) <= MAX_LINES
    assert "## Timeline" in md and "## Faults" in md and "left out" not in md
    assert md.startswith("# shop: FAILED\n")
    for w in report.windows:
        assert f"| {w.name} |" in md


def test_a_long_run_stays_within_60_lines_and_says_what_was_cut():
    report = long_report()
    md = render_markdown(report)
    lines = md.splitlines()
    assert len(lines) <= 60, len(lines)
    assert lines[0] == "# shop: FAILED"
    assert "| **FAILED** | the one that failed | fault:fault-33 |" in md  # failed first when rows are cut
    assert "- **the one that failed**: p99\\_ms was 3" in md
    assert "more expectations (all in report.html and report.json)" in md
    assert "more windows (all in report.html and report.json)" in md
    assert "| baseline |" in md and "| fault:fault-33 |" in md  # the window that failed is kept
    assert "Faults, steady state, timeline left out" in md


def test_the_limit_holds_for_every_size():
    for n_faults in (0, 1, 5, 20, 60):
        report = make_report(faults=tuple(f"f{i}" for i in range(n_faults)), window_s=1, rps=2, containers=False)
        assert len(render_markdown(report).splitlines()) <= MAX_LINES, n_faults


def test_pipes_and_markup_in_names_cannot_break_a_table_row():
    name = "a | b `c` <b>x</b> [l](http://e) *s* _u_\nnext"
    report = with_expectations(make_report(), [ExpectationResult(name, False, 1.0, 0.5, "<", "baseline", "p99_ms", name)])
    md = render_markdown(report)
    row = next(line for line in md.splitlines() if line.startswith("| **FAILED**"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 6  # five cells, as in the header
    assert "<b>" not in md and "\\<b\\>" in md
    assert "\nnext" not in md
