"""sweep.json's renderings (issue 17): sweep.md rows and marks, sweep.html's curves and heat maps
(checked on the plots' data and figures, not pixels), write/load round trip, damaged sweep.json."""

from __future__ import annotations

import json

import pytest
from matplotlib.collections import PathCollection

from harness.report import ReportFileError, ReportWriteError
from harness.report.markdown import MAX_LINES
from harness.report.sweep import Varied, load_sweep, regenerate_sweep, render_sweep_html, render_sweep_md, write_sweep
from harness.report.sweep.cells import axis_of, changes, fmt_value, value_key
from harness.report.sweep.plots import curve_of, draw_curve, draw_heat, heat_of, sweep_plots
from tests.unit.report.conftest import HOSTILE
from tests.unit.report.sweeps import (
    ERRORS,
    LATENCY,
    P99,
    USERS,
    cell,
    exp,
    one_param,
    search,
    sweep,
    three_params,
    two_params,
)


def _table_rows(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| #")]


# --- sweep.md -------------------------------------------------------------------------------

def test_md_has_the_status_line_reason_and_one_row_per_cell_with_marks():
    md = render_sweep_md(one_param())
    lines = md.splitlines()
    assert lines[0] == "# shop sweep: FAILED"
    assert "sweep failed" in md and "Grid of 4 cells over `faults.0.latency_ms`" in md
    rows = _table_rows(md)
    assert len(rows) == 4
    assert rows[0].startswith("| 1 | 100 | passed | 150 ✓ | 0.001 ✓ | [report.md](cell-001/report.md) |")
    assert "| 4 | 800 | failed | **850 ✗** |" in rows[3]
    assert "p99 bounded during catalog-slow (p99\\_ms \\< 500)" in md  # one bound for every cell: in the heading


def test_md_marks_inconclusive_and_unmeasured_cells_and_errors():
    md = render_sweep_md(two_params())
    rows = _table_rows(md)
    assert len(rows) == 6
    assert "| 6 | 800 | 50 | inconclusive | **– ?** |" in rows[5]  # observed None, inconclusive
    assert "| 5 | 400 | 50 | error: the stack did not come up: catalog unhealthy |  |" in rows[4]


def test_md_shows_the_search_bracket():
    md = render_sweep_md(search())
    assert md.splitlines()[0] == "# shop sweep: MEASURED"
    assert ("| p99 bounded during catalog-slow | `faults.0.latency_ms` | 428.125 | 451.5625 | found | 8 | 100..1600 "
            "| 6% |") in md
    assert "breaking point found within the tolerance" in md


def test_md_stays_within_max_lines_keeping_the_cells_that_did_not_pass():
    cells = [cell(i, {LATENCY: i}, [exp(P99, 100.0 if i != 150 else 900.0, 500.0)]) for i in range(1, 301)]
    md = render_sweep_md(sweep([Varied(path=LATENCY, values=list(range(1, 301)))], cells))
    assert len(md.splitlines()) <= MAX_LINES
    assert "| 150 | 150 | failed | **900 ✗** |" in md
    assert "more cells (passed) in sweep.html" in md


def test_md_and_html_escape_hostile_names():
    s = sweep([Varied(path=LATENCY, values=[1])], [cell(1, {LATENCY: HOSTILE}, [exp(HOSTILE, 1.0, 2.0)])])
    md = render_sweep_md(s)
    assert "<script>" not in md and "\\<script\\>" in md
    html = render_sweep_html(s)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img src=x" not in html


# --- plots ----------------------------------------------------------------------------------

def test_one_parameter_curve_marks_threshold_and_breaking_point():
    curve = curve_of(one_param(), P99)
    assert [p.x for p in curve.points] == [100, 200, 400, 800]
    assert [p.verdict for p in curve.points] == ["held", "held", "held", "failed"]
    assert curve.threshold == 500.0
    (b,) = curve.breaks
    assert (b.lo, b.hi, b.breaks) == (400.0, 800.0, True)  # between the last holding and the first failing
    ax = draw_curve(curve).axes[0]
    assert [line.get_ydata()[0] for line in ax.lines if line.get_linestyle() == "--"] == [500.0]
    band = [p for p in ax.patches if "breaking point" in p.get_label()]
    assert band and band[0].get_x() == 400.0 and band[0].get_x() + band[0].get_width() == 800.0
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert {c.get_label() for c in points} == {"held", "failed"}


def test_a_search_curve_marks_the_searched_bracket():
    curve = curve_of(search(), P99)
    (b,) = curve.breaks
    assert (b.lo, b.hi) == (428.125, 451.5625)
    assert [p.x for p in curve.points] == sorted(p.x for p in curve.points)


def test_no_failure_marks_no_breaking_point_and_a_recovery_is_told_apart():
    assert curve_of(one_param(p99={800: 450.0}), P99).breaks == ()
    assert [(c.lo, c.hi, c.breaks) for c in changes([(1, "held"), (2, "failed"), (3, "inconclusive"), (4, "held")])] \
        == [(1, 2, True), (2, 4, False)]


def test_categorical_values_make_a_categorical_axis():
    s = sweep([Varied(path="faults.0.mode", values=["retry", "no-retry", True])],
              [cell(i, {"faults.0.mode": v}, [exp(P99, o, 500.0)])
               for i, (v, o) in enumerate((("retry", 100.0), ("no-retry", 900.0), (True, 100.0)), start=1)])
    curve = curve_of(s, P99)
    assert not curve.axis.numeric and curve.axis.labels() == ["retry", "no-retry", "true"]
    assert [p.x for p in curve.points] == [0.0, 1.0, 2.0]
    assert [(b.lo, b.hi, b.breaks) for b in curve.breaks] == [(0.0, 1.0, True), (1.0, 2.0, False)]
    ax = draw_curve(curve).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["retry", "no-retry", "true"]


def test_two_parameters_make_a_heat_map_with_observed_values():
    heat = heat_of(two_params(), P99)
    assert heat.x.labels() == ["100", "400", "800"] and heat.y.labels() == ["10", "50"]
    assert heat.verdicts == (("held", "failed", "failed"), ("failed", "absent", "inconclusive"))
    assert heat.texts == (("200", "500", "900"), ("600", "error", "–"))
    ax = draw_heat(heat).axes[0]
    assert len(ax.images) == 1
    assert {t.get_text() for t in ax.texts} == {"200", "500", "900", "600", "error", "–"}
    assert curve_of(two_params(), P99) is None


def test_html_embeds_a_curve_for_one_parameter_a_heat_map_for_two_and_none_for_three():
    one = render_sweep_html(one_param())
    assert one.count('data-kind="curve"') == 2 and 'src="data:image/png;base64,' in one
    two = render_sweep_html(two_params())
    assert two.count('data-kind="heat"') == 1 and "Heat map: p99 bounded" in two
    three = render_sweep_html(three_params())
    assert "data:image/png" not in three and "3 parameters are varied: no plot" in three
    assert three.count('href="cell-') == 8 and 'href="cell-001/report.html"' in three
    assert [p.kind for p in sweep_plots(search())] == ["curve"]


def test_values_match_as_yaml_scalars():
    assert value_key(1) == value_key(1.0) and value_key(True) != value_key(1) and value_key("1") != value_key(1)
    assert fmt_value(451.5625) == "451.5625" and fmt_value(None) == "null" and fmt_value(False) == "false"
    assert axis_of(one_param(latencies=(800, 100, 400)), LATENCY).values == (100, 400, 800)
    assert axis_of(two_params(), USERS).numeric


# --- files ------------------------------------------------------------------------------------

def test_write_then_load_round_trips_and_regenerates(tmp_path):
    s = two_params()
    paths = write_sweep(s, tmp_path / "sw")
    assert sorted(paths) == ["html", "json", "md"] and all(p.is_file() for p in paths.values())
    assert load_sweep(tmp_path / "sw") == s and load_sweep(tmp_path / "sw" / "sweep.json") == s
    (tmp_path / "sw" / "sweep.md").unlink()
    assert sorted(regenerate_sweep(tmp_path / "sw")) == ["html", "md"]
    assert (tmp_path / "sw" / "sweep.md").read_text() == render_sweep_md(s)
    assert not [p for p in (tmp_path / "sw").iterdir() if p.name.startswith(".")]  # no temporary file left


def test_write_into_a_file_is_one_line(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ReportWriteError, match="cannot write report files"):
        write_sweep(one_param(), tmp_path / "f")


GOOD = (one_param().model_dump_json(indent=2) + "\n").encode()


@pytest.mark.parametrize("content, needle", [
    (b"", "invalid JSON"),
    (GOOD[:200], "invalid JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8 text"),
    (b"[" * 100_000 + b"]" * 100_000, "invalid JSON"),
    (b'{"status": 5}', "not a harness sweep.json"),
    (GOOD.replace(b'"schema_version": 1', b'"schema_version": 99', 1), "newer than"),
    (GOOD.replace(b'"dir": "cell-001"', b'"dir": "../../etc"', 1), "not a directory inside"),
])
def test_a_damaged_sweep_json_is_one_line_naming_the_file(tmp_path, content, needle):
    (tmp_path / "sweep.json").write_bytes(content)
    with pytest.raises(ReportFileError) as info:
        load_sweep(tmp_path)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(tmp_path / "sweep.json") in message and needle in message


def test_a_missing_sweep_json_is_one_line(tmp_path):
    with pytest.raises(ReportFileError, match="cannot read"):
        load_sweep(tmp_path / "nope")


def test_sweep_json_keeps_the_model_fields():
    data = json.loads(GOOD)
    assert {"schema_version", "scenario", "varied", "mode", "status", "cells", "search"} <= set(data)
    assert data["cells"][0]["expectations"][1]["name"] == ERRORS
