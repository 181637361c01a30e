"""build_report's steps on small journals: a run whose load never started gets no analysis (no
windows, no verdicts), and the status still follows decide_status (a missing run.end is an error)."""

from __future__ import annotations

import json

import pytest

from harness.report.build import build_report
from harness.report.status import NO_RUN_END
from harness.scenario.models import Scenario

SCENARIO = {
    "name": "steps",
    "proxies": [{"name": "catalog", "listen": "0.0.0.0:18080", "upstream": "catalog:8080"}],
    "load": {"host": "http://lb:8080", "duration_s": 2, "requests": [{"path": "/products/1"}]},
    "expectations": [{"name": "few errors", "window": "baseline", "metric": "error_rate", "<": 0.5}],
}
T0 = 1_700_000_000.0


def run_dir_with(tmp_path, events):
    with (tmp_path / "journal.jsonl").open("w") as f:
        for name, at, fields in events:
            f.write(json.dumps({"event": name, "at": "2026-01-01T00:00:00.000Z", "t": T0 + at, **fields}) + "\n")
    (tmp_path / "requests.tsv").write_text("")
    return tmp_path


START = ("run.start", 0.0, {"run_id": "r", "seed": 1, "scenario": "steps", "environment": {"harness": "1"}})


@pytest.mark.parametrize("end, status, error", [
    ([("run.end", 3.0, {"status": "error", "error": "stack not healthy", "environment": {"images": {"a": "b"}}})],
     "error", "stack not healthy"),
    ([("run.end", 3.0, {"status": "interrupted", "error": "interrupted by SIGINT"})], "interrupted",
     "interrupted by SIGINT"),
    ([], "error", NO_RUN_END),
])
def test_a_run_whose_load_never_started_gets_no_analysis(tmp_path, end, status, error):
    report = build_report(run_dir_with(tmp_path, [START, *end]), Scenario.model_validate(SCENARIO))
    assert (report.status, report.error) == (status, error)
    assert report.windows == [] and report.expectations == [] and report.totals is None and report.timeline == []
    assert report.load.recorded == 0 and report.load.duration_s is None
    assert report.environment == {"harness": "1", **({"images": {"a": "b"}} if end and "environment" in end[0][2]
                                                      else {})}


def test_a_journal_without_run_start_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no run.start"):
        build_report(run_dir_with(tmp_path, [("run.end", 1.0, {"status": "completed"})]),
                     Scenario.model_validate(SCENARIO))


def test_fault_actions_make_the_timeline_with_offsets_from_the_load_start(tmp_path):
    events = [START, ("load.start", 1.0, {"host": "http://127.0.0.1:1"}),
              ("fault.inject", 2.5, {"fault": "f", "kind": "latency", "touched": ["catalog"], "occurrence": 2}),
              ("fault.revert_failed", 4.0, {"fault": "f", "kind": "latency", "error": "gone"}),
              ("load.stop", 5.0, {"recorded": 0}), ("run.end", 6.0, {"status": "error", "error": "x"})]
    report = build_report(run_dir_with(tmp_path, events), Scenario.model_validate(SCENARIO))
    assert [(t.action, t.fault, t.offset_s, t.touched, t.error) for t in report.timeline] == [
        ("inject", "f#2", 1.5, ["catalog"], None), ("revert_failed", "f", 3.0, [], "gone")]
    assert report.load.host == "http://127.0.0.1:1" and report.status == "error" and report.expectations == []


def test_records_of_a_run_whose_load_never_started_are_still_counted(tmp_path):
    """Requests the child sent before the run failed (its start signal raced a teardown) are
    counted in the report even though nothing is analysed."""
    from harness.load.records import RequestRecord

    run_dir = run_dir_with(tmp_path, [START, ("run.end", 3.0, {"status": "error", "error": "x"})])
    (run_dir / "requests.tsv").write_text("".join(
        RequestRecord(T0 + i, 5.0, "GET /products/1", 200, "", 10).encode() for i in range(3)))
    report = build_report(run_dir, Scenario.model_validate(SCENARIO))
    assert report.windows == [] and report.load.recorded == 3


def test_the_scenario_matrix_tag_is_recorded_so_a_matrix_can_be_drawn_from_reports(tmp_path):
    tagged = {**SCENARIO, "matrix": {"dependency": "catalog", "failure_mode": "slow", "key": "few errors"}}
    report = build_report(run_dir_with(tmp_path, [START]), Scenario.model_validate(tagged))
    assert report.scenario.matrix.model_dump() == {"dependency": "catalog", "failure_mode": "slow", "key": "few errors"}
    assert build_report(run_dir_with(tmp_path, [START]), Scenario.model_validate(SCENARIO)).scenario.matrix is None
