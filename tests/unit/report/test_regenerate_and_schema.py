"""report.json is the source of truth: every other format comes back from it alone
(``harness report``); ``harness schema`` prints the published schemas; the postmortem is built
from the report."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.report import ReportFileError, load_report, regenerate, rendered_files, write_reports
from harness.report.postmortem import build_postmortem
from tests.unit.report.conftest import make_report

runner = CliRunner()


def test_write_reports_writes_all_four_formats(tmp_path):
    paths = write_reports(make_report(), tmp_path)
    assert set(paths) == {"json", "md", "html", "junit"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "report.html", "report.json", "report.md"]


def test_every_format_is_regenerated_from_report_json_alone(tmp_path):
    first = tmp_path / "run"
    write_reports(make_report(), first)
    again = tmp_path / "copy"
    again.mkdir()
    shutil.copy(first / "report.json", again / "report.json")
    regenerate(again)
    for name in rendered_files().values():
        assert (again / name).read_text() == (first / name).read_text(), name
    assert load_report(again) == load_report(first)


def test_harness_report_cli_regenerates_and_exits_2_without_a_report(tmp_path):
    write_reports(make_report(), tmp_path)
    (tmp_path / "report.html").unlink()
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").is_file()
    missing = runner.invoke(app, ["report", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert "nowhere/report.json: cannot read" in missing.output


def test_an_invalid_or_newer_report_is_refused(tmp_path):
    (tmp_path / "report.json").write_text('{"run_id": 3}')
    with pytest.raises(ReportFileError, match="not a harness report.json"):
        load_report(tmp_path)
    data = json.loads(make_report().model_dump_json())
    data["schema_version"] = 99
    (tmp_path / "report.json").write_text(json.dumps(data))
    with pytest.raises(ReportFileError, match="schema_version 99 is newer"):
        load_report(tmp_path)


def test_schema_report_is_the_report_models_json_schema():
    result = runner.invoke(app, ["schema", "report"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    for field in ("schema_version", "series", "windows", "faults", "steady_state", "expectations", "timeline",
                  "environment"):
        assert field in schema["properties"], field


def test_schema_scenario_covers_every_top_level_key_and_the_string_shorthands():
    result = runner.invoke(app, ["schema", "scenario"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {"version", "name", "target", "load", "faults", "expectations"} <= set(schema["properties"])
    assert "source_path" not in schema["properties"]
    threshold = schema["$defs"]["Threshold"]["anyOf"]
    assert {"type": "string", "description": "shorthand, e.g. 'p99_ms < 800 in fault'"} in threshold
    assert "latency" in json.dumps(schema["properties"]["faults"]) or "latency" in json.dumps(schema["$defs"])
    assert "oneOf" not in json.dumps(schema)
    assert runner.invoke(app, ["schema", "nope"]).exit_code == 2


def test_postmortem_tells_the_timeline_in_order_with_findings():
    report = make_report(faults=("catalog-slow", "api-killed"))
    pm = build_postmortem(report)
    offsets = [e.offset_s for e in pm.timeline]
    assert offsets == sorted(offsets)
    kinds = [e.kind for e in pm.timeline]
    assert kinds[0] == "load" and kinds[-1] == "load"
    inject = kinds.index("inject")
    assert kinds[inject + 1] == "detect" and "1.5" not in pm.timeline[inject].what
    detect = pm.timeline[inject + 1]
    assert "Versus the baseline: p99" in detect.observed and "Diagnosis: slow" in detect.observed
    assert any(e.kind == "recover" and "Back within the steady state 1 s after the revert" in e.what
               for e in pm.timeline)
    failed = [e for e in report.expectations if not e.held]
    assert [f for f in pm.findings if f.startswith("Failed: ")] == [f"Failed: {e.name}: {e.explanation}"
                                                                     for e in failed]
    assert "In recovery:catalog-slow: api restarted 1x." in pm.findings
    assert pm.summary.startswith(f"{len(failed)} of {len(report.expectations)} expectations failed")
