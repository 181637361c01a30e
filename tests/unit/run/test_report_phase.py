"""The report phase: a full report when it can be built; a minimal one, whose status follows
decide_status's first rule, when it cannot."""

from __future__ import annotations

import json

import pytest

from harness.redact import Redactor
from harness.run import report as report_phase
from harness.run.report import RunInfo, minimal_report, write_report
from harness.scenario import load_scenario
from tests.unit.run import fakes


@pytest.fixture
def loaded():
    return load_scenario(fakes.QUICKSTART)


@pytest.mark.parametrize("ended, status", [("completed", "error"), ("error", "error"), ("aborted", "aborted"),
                                           ("interrupted", "interrupted")])
def test_a_minimal_report_keeps_only_a_cut_short_runs_own_status(loaded, ended, status):
    report = minimal_report(loaded, RunInfo("r", 3, 1_700_000_000.0, ended, "why"), "KeyError: 'x'")
    assert (report.status, report.error) == (status, "why; the report could not be built: KeyError: 'x'")
    assert (report.run_id, report.seed, report.scenario.name, report.started_at) == (
        "r", 3, "quickstart", "2023-11-14T22:13:20.000Z")


def test_a_report_that_builds_is_redacted_and_written_in_every_format(tmp_path, loaded, monkeypatch):
    import harness.report

    fake = minimal_report(loaded, RunInfo("r", 3, 1_700_000_000.0, "completed", "token hunter2"), "x")
    monkeypatch.setattr(harness.report, "build_report", lambda run_dir, scenario, strict=False: fake)
    report, paths = write_report(tmp_path, loaded, Redactor({"hunter2"}), RunInfo("r", 3, 0.0, "completed", None))
    assert set(paths) == {"json", "md", "html", "junit"} and "hunter2" not in report.error
    assert json.loads(paths["json"].read_text())["run_id"] == "r"


def test_the_warm_up_swallows_its_errors(monkeypatch):
    import harness.report

    def broken():
        raise ImportError("no matplotlib")

    monkeypatch.setattr(harness.report, "warm_up", broken)
    assert report_phase.warm_up_reports() is None


def test_a_minimal_report_keeps_the_scenarios_matrix_tag():
    tagged = load_scenario(fakes.REPO / "scenarios" / "patterns" / "timeout-slow-catalog.yaml")
    report = minimal_report(tagged, RunInfo("r", 3, 1_700_000_000.0, "error", "why"), "x")
    assert (report.scenario.matrix.dependency, report.scenario.matrix.failure_mode) == ("catalog", "slow")
    assert minimal_report(load_scenario(fakes.QUICKSTART), RunInfo("r", 3, 0.0, "error", "why"), "x").scenario.matrix is None
