"""harness compare of two sweeps (issue 17): cells matched by values, flipped verdicts, observed
changes, the breaking point's move, cells on one side only, and the exit codes of the command."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from harness.cli import app
from harness.compare.sweep_render import render_sweep_compare_html, render_sweep_compare_md
from harness.compare.sweeps import compare_breaking_points, compare_sweeps
from harness.report import write_reports
from harness.report.sweep import SearchResult, write_sweep
from tests.unit.report.conftest import make_report
from tests.unit.report.sweeps import ERRORS, LATENCY, P99, one_param, search, two_params

runner = CliRunner()


def _move(c, latency, name=P99):
    cell = next(x for x in c.cells if x.values[LATENCY] == latency)
    return next(e for e in cell.expectations if e.name == name)


def test_the_same_sweep_is_ok_and_every_cell_matches():
    c = compare_sweeps(one_param(), one_param())
    assert c.outcome == "ok" and c.reasons == [] and c.moved == []
    assert len(c.cells) == 4 and not c.only_before and not c.only_after


def test_held_to_failed_is_a_regression_with_the_observed_change():
    c = compare_sweeps(one_param(), one_param(p99={400: 520.0}))
    assert c.outcome == "regressed"
    m = _move(c, 400)
    assert (m.before, m.after, m.change) == ("held", "failed", "regressed")
    assert (m.observed_before, m.observed_after, m.delta) == (450.0, 520.0, 70.0)
    assert c.reasons == ["'p99 bounded during catalog-slow' at faults.0.latency_ms=400: held before, failed after"]
    assert _move(c, 400, ERRORS).change == "same"
    md = render_sweep_compare_md(c)
    assert md.startswith("# Compare shop sweeps: REGRESSED")
    assert "| faults.0.latency\\_ms=400 | p99 bounded during catalog-slow | held ✓ | failed ✗ | 450 | 520 | +70 | " \
           "**REGRESSED** |" in md.splitlines()[10]  # the moved row comes first


def test_failed_to_held_is_an_improvement_and_ok():
    c = compare_sweeps(one_param(), one_param(p99={800: 480.0}))
    assert c.outcome == "ok" and _move(c, 800).change == "improved" and len(c.moved) == 1


def test_to_or_from_inconclusive_proves_nothing():
    before = two_params()
    cells = [x.model_copy(deep=True) for x in before.cells]
    first = cells[0].expectations[0]
    cells[0].expectations[0] = first.model_copy(update={"verdict": "inconclusive", "observed": None})
    cells[0] = cells[0].model_copy(update={"status": "inconclusive"})
    c = compare_sweeps(one_param(), one_param())  # control: ok
    assert c.outcome == "ok"
    c = compare_sweeps(before, before.model_copy(update={"cells": cells}))
    moved = c.moved[0].expectations[0]
    assert (moved.before, moved.after, moved.change) == ("held", "inconclusive", "proves_nothing")
    assert c.outcome == "inconclusive" and any(r.startswith("proves nothing:") for r in c.reasons)


def test_a_proven_regression_is_not_hidden_by_an_inconclusive_cell():
    before = two_params()  # has an errored and an inconclusive cell
    cells = [x.model_copy(deep=True) for x in before.cells]
    cells[0].expectations[0] = cells[0].expectations[0].model_copy(update={"verdict": "failed", "observed": 700.0})
    c = compare_sweeps(before, before.model_copy(update={"cells": cells}))
    assert c.outcome == "regressed"


def test_cells_on_one_side_are_listed_not_judged():
    c = compare_sweeps(one_param(latencies=(100, 200, 400)), one_param(latencies=(200, 400, 800)))
    assert [u.values[LATENCY] for u in c.only_before] == [100]
    assert [u.values[LATENCY] for u in c.only_after] == [800]
    assert len(c.cells) == 2 and c.outcome == "ok"
    assert "Only in BEFORE (1): faults.0.latency\\_ms=100" in render_sweep_compare_md(c)
    assert compare_sweeps(one_param(latencies=(1, 2)), one_param(latencies=(3, 4))).outcome == "inconclusive"


def test_values_match_across_int_and_float():
    c = compare_sweeps(one_param(latencies=(100, 200)), one_param(latencies=(100.0, 200.0)))
    assert len(c.cells) == 2 and not c.only_before


def _search(holds_at, breaks_at, outcome="found", expectation=P99):
    return SearchResult(path=LATENCY, expectation=expectation, lo=100, hi=1600, tolerance=0.05, outcome=outcome,
                        holds_at=holds_at, breaks_at=breaks_at, steps=6)


def test_the_breaking_point_moves_only_when_the_brackets_do_not_overlap():
    assert compare_breaking_points(_search(428, 451), _search(334, 381)).moved == "earlier"
    assert compare_breaking_points(_search(428, 451), _search(428, 451)).moved == "within"
    assert compare_breaking_points(_search(428, 451), _search(440, 470)).moved == "within"
    assert compare_breaking_points(_search(428, 451), _search(460, 480)).moved == "later"
    # held over the whole range before; broke inside it after
    assert compare_breaking_points(_search(1600, None, "held_throughout"), _search(800, 850)).moved == "earlier"
    assert compare_breaking_points(_search(None, 100, "broken_throughout"), _search(200, 220)).moved == "later"
    assert compare_breaking_points(_search(428, 451), _search(428, 451, expectation="other")).moved == "not_compared"
    assert compare_breaking_points(None, _search(1, 2)) is None


def test_a_search_whose_breaking_point_moved_earlier_regressed():
    after = search(steps=((100, 150.0), (1600, 1650.0), (850, 900.0), (475, 525.0), (287.5, 337.5),
                          (381.25, 600.0), (334.375, 384.375)), holds_at=334.375, breaks_at=381.25)
    c = compare_sweeps(search(), after)
    assert c.breaking_point.moved == "earlier" and c.outcome == "regressed"
    assert _move(c, 381.25).change == "regressed"
    assert "moved earlier: AFTER failed at 381.25, where BEFORE held at 428.125" in c.reasons[-1]
    html = render_sweep_compare_html(c)
    assert "Breaking point" in html and "earlier (regression)" in html


# --- the command ----------------------------------------------------------------------------

def test_cli_compares_two_sweep_directories_with_the_exit_codes(tmp_path):
    write_sweep(one_param(), tmp_path / "before")
    write_sweep(one_param(p99={400: 520.0}), tmp_path / "after")
    result = runner.invoke(app, ["compare", str(tmp_path / "before"), str(tmp_path / "after")])
    assert result.exit_code == 1, result.output
    assert "regressed faults.0.latency_ms=400: p99 bounded during catalog-slow: held -> failed" in result.output
    assert sorted(p.name for p in (tmp_path / "after").glob("compare.*")) == ["compare.html", "compare.json",
                                                                               "compare.md"]
    data = json.loads((tmp_path / "after" / "compare.json").read_text())
    assert data["kind"] == "sweep" and data["outcome"] == "regressed"

    back = runner.invoke(app, ["compare", str(tmp_path / "after" / "sweep.json"), str(tmp_path / "before"),
                               "--out", str(tmp_path / "cmp")])
    assert back.exit_code == 0, back.output
    assert (tmp_path / "cmp" / "compare.md").read_text().startswith("# Compare shop sweeps: OK")

    write_sweep(two_params(), tmp_path / "two")
    assert runner.invoke(app, ["compare", str(tmp_path / "two"), str(tmp_path / "two")]).exit_code == 3


def test_cli_refuses_a_sweep_against_a_run_with_one_line(tmp_path):
    write_sweep(one_param(), tmp_path / "sweep")
    write_reports(make_report(), tmp_path / "run")
    for args in ([tmp_path / "sweep", tmp_path / "run"], [tmp_path / "run", tmp_path / "sweep" / "sweep.json"]):
        result = runner.invoke(app, ["compare", *map(str, args)])
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "is a sweep and" in lines[0] and "a run" in lines[0], lines
    assert not list((tmp_path / "run").glob("compare.*"))


def test_cli_damaged_sweep_json_and_max_regression_exit_2(tmp_path):
    write_sweep(one_param(), tmp_path / "good")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "sweep.json").write_text('{"cells": ')
    result = runner.invoke(app, ["compare", str(tmp_path / "good"), str(tmp_path / "bad")])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert str(tmp_path / "bad" / "sweep.json") in result.output and "invalid JSON" in result.output
    limited = runner.invoke(app, ["compare", str(tmp_path / "good"), str(tmp_path / "good"),
                                  "--max-regression", "p99_ms=10%"])
    assert limited.exit_code == 2 and "--max-regression gates a run's window metrics" in limited.output
