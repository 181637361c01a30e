"""An operator's notes reach report.json (``notes``) and the timelines of report.md and
report.html; a report written before notes existed still loads. And the scenario a game day's
report judges: the faults injected, the expectations on the windows they made."""

from __future__ import annotations

import json

from harness.gameday.judging import judged_scenario, unjudged
from harness.report.build import build_report
from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.report.model import Report
from harness.scenario import load_scenario
from harness.scenario.models import Scenario
from tests.unit.report.test_build_steps import SCENARIO, START, run_dir_with
from tests.unit.run.fakes import QUICKSTART

EVENTS = [START, ("load.start", 1.0, {"host": "http://127.0.0.1:1"}),
          ("note", 0.5, {"text": "before the load: all green"}),
          ("fault.inject", 2.5, {"fault": "f", "kind": "latency", "touched": ["catalog"], "took_ms": 1}),
          ("note", 3.0, {"text": "catalog <b>slow</b> | as planned"}),
          ("note", 3.5, {"text": 42}),  # not a text: skipped
          ("fault.revert", 4.0, {"fault": "f", "kind": "latency", "touched": ["catalog"]}),
          ("load.stop", 5.0, {"recorded": 0}), ("run.end", 6.0, {"status": "completed"})]


def test_notes_are_in_report_json_and_in_the_timelines(tmp_path):
    report = build_report(run_dir_with(tmp_path, EVENTS), Scenario.model_validate(SCENARIO))
    assert [(n.offset_s, n.text) for n in report.notes] == [(-0.5, "before the load: all green"),
                                                          (2.0, "catalog <b>slow</b> | as planned")]
    again = Report.model_validate_json(report.model_dump_json())
    assert again.notes == report.notes
    md = render_markdown(report)
    timeline = md[md.index("## Timeline"):]
    lines = [line for line in timeline.splitlines() if line.startswith("- ")]
    assert "note: before the load: all green" in lines[0] and "inject `f`" in lines[1]
    assert "note: catalog" in lines[2] and "revert `f`" in lines[3]
    html = render_html(report)
    assert "Note: catalog &lt;b&gt;slow&lt;/b&gt; | as planned" in html and 'class="note"' in html


def test_a_report_written_before_notes_existed_still_loads(tmp_path):
    report = build_report(run_dir_with(tmp_path, EVENTS), Scenario.model_validate(SCENARIO))
    old = json.loads(report.model_dump_json())
    del old["notes"]
    assert Report.model_validate(old).notes == []


def test_the_judged_scenario_has_the_injected_faults_and_leaves_out_expectations_on_others():
    loaded = load_scenario(QUICKSTART)
    spec = loaded.scenario.faults[0].model_copy(update={"at_s": 0.0})
    judged = judged_scenario(loaded, [spec])
    assert [f.name for f in judged.scenario.faults] == ["catalog-slow"]
    assert [e.label for e in judged.scenario.expectations] == [
        "steady baseline", "product p99 bounded while catalog is slow", "few errors while catalog is slow"]
    assert len(unjudged(loaded.scenario, [spec])) == 2 and judged.path == loaded.path


def test_with_nothing_left_to_judge_every_expectation_stays():
    loaded = load_scenario(QUICKSTART)
    only_faults = loaded.scenario.model_copy(update={"expectations": loaded.scenario.expectations[1:3]})
    loaded = type(loaded)(only_faults, loaded.path, loaded.sha256, [])
    assert unjudged(loaded.scenario, []) == []
    assert len(judged_scenario(loaded, []).scenario.expectations) == 2


def test_a_game_day_that_injected_nothing_judges_every_expectation():
    """Nothing acted: the fault windows' expectations stay, so the report is inconclusive rather
    than passed on the steady baseline alone."""
    loaded = load_scenario(QUICKSTART)
    assert unjudged(loaded.scenario, []) == []
    assert len(judged_scenario(loaded, []).scenario.expectations) == len(loaded.scenario.expectations) == 5
