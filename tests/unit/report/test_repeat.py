"""harness run --repeat N --quorum K: each repeat in its own directory, the aggregate's status
and exit code from the quorum."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.report import write_reports
from harness.report.markdown import MAX_LINES
from harness.report.repeat import aggregate, render_aggregate_html, render_aggregate_md
from harness.run.repeat import run_repeated
from harness.run import RunResult
from tests.unit.report.conftest import expectation, make_report, with_expectations

runner = CliRunner()
REPO = Path(__file__).resolve().parents[3]
QUICKSTART = REPO / "scenarios" / "quickstart.yaml"


def run_of(status: str, i: int = 0):
    base = make_report(seed=i, containers=False, window_s=3)
    if status == "passed":
        return with_expectations(base, [expectation("p99 bounded"), expectation("errors low")])
    if status == "failed":
        return with_expectations(base, [expectation("p99 bounded", held=False), expectation("errors low")])
    return base.model_copy(update={"status": status, "error": "docker went away", "expectations": []})


@pytest.mark.parametrize("statuses, quorum, expected", [
    (["passed", "passed", "passed"], 3, "passed"),
    (["passed", "failed", "passed"], 2, "passed"),
    (["passed", "failed", "failed"], 2, "failed"),
    (["passed", "aborted", "failed"], 2, "failed"),
    (["passed", "error", "failed"], 2, "error"),  # 1 failed (not > N - K): the inconclusive one decided
    (["passed", "error", "error"], 2, "error"),
    (["passed", "passed", "interrupted"], 2, "interrupted"),
])
def test_aggregate_status_follows_the_quorum(statuses, quorum, expected):
    reports = [(f"repeat-{i + 1}", run_of(s, i)) for i, s in enumerate(statuses)]
    agg = aggregate("shop", reports, len(statuses), quorum)
    assert agg.status == expected, agg.reason
    assert agg.passed == statuses.count("passed")


def test_aggregate_counts_per_expectation_and_renders_each_repeat():
    reports = [(f"repeat-{i + 1}", run_of(s, i)) for i, s in enumerate(["passed", "failed", "passed"])]
    agg = aggregate("shop", reports, 3, 2)
    assert [(t.name, t.held, t.judged) for t in agg.expectations] == [("p99 bounded", 2, 3), ("errors low", 3, 3)]
    assert [r.failed for r in agg.runs] == [[], ["p99 bounded"], []]
    md = render_aggregate_md(agg)
    assert md.startswith("# shop: PASSED (2 of 3 passed, quorum 2)")
    assert "| 2 | `run-shop-1` | failed | p99 bounded |" in md
    html = render_aggregate_html(agg)
    assert 'href="repeat-2/report.html"' in html and "2 of 3" in html


def test_aggregate_markdown_stays_within_60_lines():
    reports = [(f"repeat-{i + 1}", run_of("passed", i)) for i in range(100)]
    assert len(render_aggregate_md(aggregate("shop", reports, 100, 50)).splitlines()) <= MAX_LINES


class FakeExecute:
    """Stands in for harness.run.execute: writes real reports, statuses from a list."""

    def __init__(self, statuses, full=True):
        self.statuses = list(statuses)
        self.calls = []
        self.full = full

    def __call__(self, loaded, out_dir=None, seed=None, console=None, strict=False):
        report = run_of(self.statuses[len(self.calls)], len(self.calls))
        report = report.model_copy(update={"seed": seed if seed is not None else 99})
        self.calls.append((out_dir, seed))
        if self.full:
            paths = write_reports(report, out_dir)
        else:  # report.json only: rendering is tested elsewhere
            out_dir.mkdir(parents=True)
            paths = {"json": out_dir / "report.json"}
            paths["json"].write_text(report.model_dump_json())
        return RunResult(report, out_dir, paths)


def test_run_repeated_writes_each_repeat_and_the_aggregate(tmp_path):
    from harness.scenario import load_scenario

    loaded = load_scenario(QUICKSTART)
    fake = FakeExecute(["passed", "failed", "passed"])
    agg, paths = run_repeated(loaded, 3, 2, out_dir=tmp_path, execute=fake)
    assert agg.status == "passed"
    assert [c[0] for c in fake.calls] == [tmp_path / f"repeat-{i}" for i in (1, 2, 3)]
    assert {c[1] for c in fake.calls} == {42}  # the scenario's seed, for every repeat
    for i in (1, 2, 3):
        assert (tmp_path / f"repeat-{i}" / "report.html").is_file()
    assert json.loads(paths["json"].read_text())["passed"] == 2
    assert paths["html"].is_file() and paths["md"].is_file()

    regenerated = runner.invoke(app, ["report", str(tmp_path)])
    assert regenerated.exit_code == 0, regenerated.output
    assert "repeat-2/report.html" in regenerated.output


def test_cli_exit_code_comes_from_the_aggregate(tmp_path, monkeypatch):
    import harness.run

    for statuses, quorum, code in ((["passed", "failed"], 1, 0), (["failed", "failed"], 1, 1),
                                   (["error", "passed"], 2, 3)):
        monkeypatch.setattr(harness.run, "execute", FakeExecute(statuses, full=False))
        out = tmp_path / f"{'-'.join(statuses)}-{quorum}"
        result = runner.invoke(app, ["run", str(QUICKSTART), "--repeat", "2", "--quorum", str(quorum),
                                     "--out", str(out)])
        assert result.exit_code == code, result.output
        assert (out / "aggregate.json").is_file()


def test_a_quorum_above_the_repeat_count_is_a_usage_error():
    result = runner.invoke(app, ["run", str(QUICKSTART), "--repeat", "2", "--quorum", "3"])
    assert result.exit_code == 2
    assert "--quorum 3 is more than --repeat 2" in result.output
