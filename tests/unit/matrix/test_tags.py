"""The scenario's matrix: tag: validated like every scenario field, in the scenario schema, kept
in report.json (old reports without it still load), and on every pattern scenario."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.report.model import Report
from harness.report.schema import schema_for
from harness.scenario import load_scenario
from harness.scenario.matrix import FAILURE_MODES, FailureMode
from tests.unit.matrix.conftest import run_report, write_scenario

PATTERNS = Path(__file__).parents[3] / "scenarios" / "patterns"


def test_every_pattern_scenario_has_its_own_cell():
    files = sorted(PATTERNS.glob("*.yaml"))
    tags = {f.name: load_scenario(f).scenario.matrix for f in files}
    assert len(files) == 11 and all(tags.values()), [name for name, tag in tags.items() if tag is None]
    places = [(t.dependency, t.failure_mode) for t in tags.values()]
    assert len(set(places)) == len(places), "two pattern scenarios share a cell"
    assert {dep for dep, _ in places} == {"api", "catalog", "redis"}


def test_the_vocabulary_is_one_list():
    assert list(FAILURE_MODES) == list(typing.get_args(FailureMode))


@pytest.mark.parametrize("tag, line", [
    ("{dependency: catalog, failure_mode: slow, colour: red}", ":3:51: matrix.colour: unknown key 'colour'; valid keys: dependency, failure_mode, key"),
    ("{dependency: catalog, failur_mode: slow}", ":3:31: matrix.failur_mode: unknown key 'failur_mode'; did you "
                                                  "mean 'failure_mode'?"),
    ("{dependency: catalog, failure_mode: slow, key: p99 bound}", ":3:51: matrix.key: no expectation is named "
     "'p99 bound' (expectations: 'steady baseline', 'p99 bounded')"),
    ("{dependency: '', failure_mode: slow}", ":3:22: matrix.dependency: String should have at least 1 character"),
])
def test_a_bad_tag_is_an_error_at_its_line(tmp_path, tag, line):
    file = write_scenario(tmp_path, "s")
    file.write_text(file.read_text().replace(file.read_text().splitlines()[2], f"matrix: {tag}"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(file)
    assert any(p.startswith(f"{file}{line}") for p in caught.value.problems), caught.value.problems


def test_the_scenario_schema_lists_the_tag_and_its_failure_modes():
    schema = schema_for("scenario")
    tag = schema["$defs"]["MatrixTag"]
    assert tag["additionalProperties"] is False and tag["required"] == ["dependency", "failure_mode"]
    assert tag["properties"]["failure_mode"]["enum"] == list(FAILURE_MODES)
    assert "matrix" in schema["properties"]


def test_a_report_json_without_the_tag_still_loads(tmp_path):
    report = run_report(write_scenario(tmp_path, "s"))
    data = json.loads(report.model_dump_json())
    assert data["scenario"].pop("matrix") is None
    assert Report.model_validate(data).scenario.matrix is None
