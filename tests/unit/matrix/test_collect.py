"""Collecting the matrix's cells from real report.json files: the newest report of each tagged
scenario run as written, stale marking, blank cells, and when scenarios are run."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.matrix import MatrixSettings, collect_matrix, index_reports, newest_report, tagged_scenarios
from harness.matrix.scenarios import MatrixUsageError, parse_age
from tests.unit.matrix.conftest import NOW_S, run_report, save, write_scenario


def settings(tmp_path: Path, policy: str = "never", max_age_s: float = 7 * 86_400) -> MatrixSettings:
    return MatrixSettings(tmp_path / "scenarios", tmp_path / "reports", tmp_path / "reports" / "matrix-x", policy,
                          max_age_s)


def collect(tmp_path: Path, policy: str = "never", execute=None, max_age_s: float = 7 * 86_400, progress=None):  # noqa: ANN001
    return collect_matrix(tagged_scenarios(tmp_path / "scenarios"), settings(tmp_path, policy, max_age_s),
                          execute=execute, clock=lambda: NOW_S, progress=progress)


def test_the_newest_report_of_the_scenario_as_written_makes_the_cell(tmp_path):
    file = write_scenario(tmp_path / "scenarios", "slow-catalog")
    reports = tmp_path / "reports"
    save(run_report(file, "failed", ended_at="2025-12-30T10:00:00.000Z", p99_ms=1800, run_id="old"), reports / "a")
    save(run_report(file, "passed", ended_at="2025-12-31T10:00:00.000Z", p99_ms=640, run_id="new"), reports / "b")
    save(run_report(file, "failed", ended_at="2025-12-31T20:00:00.000Z", run_id="naive",
                    overrides=["target.profile=naive"]), reports / "c")  # another test: not the scenario as written
    other = write_scenario(tmp_path / "elsewhere", "other")
    save(run_report(other, "failed", ended_at="2025-12-31T21:00:00.000Z", run_id="other"), reports / "d" / "repeat-1")
    matrix, notes = collect(tmp_path)
    [cell] = matrix.cells
    assert (cell.run_id, cell.verdict, cell.status, cell.key, cell.metric, cell.observed) == (
        "new", "held", "passed", "p99 bounded", "p99_ms", 640)
    assert cell.report == "../b/report.html" and not cell.stale and not cell.ran
    assert (matrix.status, matrix.dependencies, matrix.failure_modes) == ("passed", ["catalog"], ["slow"])
    assert notes == []


def test_reports_in_nested_directories_count_and_damaged_ones_are_skipped_with_a_note(tmp_path):
    file = write_scenario(tmp_path / "scenarios", "slow-catalog")
    reports = tmp_path / "reports"
    save(run_report(file, "failed", ended_at="2025-12-31T10:00:00.000Z", run_id="rep"), reports / "agg" / "repeat-2")
    (reports / "broken").mkdir(parents=True)
    (reports / "broken" / "report.json").write_text('{"schema_version": 1, "run_id": ')
    index = index_reports(reports)
    assert [p.file.parent.name for p in index.peeked] == ["repeat-2"]
    assert len(index.skipped) == 1 and "broken/report.json" in index.skipped[0]
    matrix, notes = collect(tmp_path)
    assert matrix.cells[0].run_id == "rep" and matrix.cells[0].verdict == "failed" and matrix.status == "failed"
    assert len(notes) == 1 and notes[0].startswith("skipped: ") and "broken/report.json" in notes[0]


def test_a_report_older_than_max_age_is_stale_and_the_matrix_is_not_passed(tmp_path):
    file = write_scenario(tmp_path / "scenarios", "slow-catalog")
    save(run_report(file, "passed", ended_at="2025-12-20T00:00:00.000Z"), tmp_path / "reports" / "a")
    matrix, _ = collect(tmp_path)
    [cell] = matrix.cells
    assert cell.verdict == "held" and cell.stale and cell.age_s == 12 * 86_400
    assert cell.stale_reason == "12 d old (more than 7 d)"
    assert matrix.status == "inconclusive" and "stale" in matrix.reason
    fresh, _ = collect(tmp_path, max_age_s=parse_age("30d"))
    assert not fresh.cells[0].stale and fresh.status == "passed"


def test_a_report_of_an_older_version_of_the_scenario_file_is_stale(tmp_path):
    file = write_scenario(tmp_path / "scenarios", "slow-catalog")
    save(run_report(file, "passed", sha256="00" * 32), tmp_path / "reports" / "a")
    [cell] = collect(tmp_path)[0].cells
    assert cell.stale and cell.stale_reason == "the scenario file changed since this run"


def test_no_run_never_runs_and_a_missing_report_is_a_blank_cell(tmp_path, fake_execute):
    write_scenario(tmp_path / "scenarios", "slow-catalog")
    write_scenario(tmp_path / "scenarios", "catalog-down", failure_mode="down")
    execute = fake_execute()
    matrix, _ = collect(tmp_path, "never", execute)
    assert execute.calls == []
    assert [(c.failure_mode, c.verdict, c.status, c.report) for c in matrix.cells] == [
        ("down", "not run", None, None), ("slow", "not run", None, None)]
    assert matrix.status == "inconclusive" and matrix.failure_modes == ["slow", "down"]


def test_missing_runs_only_what_has_no_report_into_the_reports_directory(tmp_path, fake_execute):
    write_scenario(tmp_path / "scenarios", "catalog-down", failure_mode="down")
    file = write_scenario(tmp_path / "scenarios", "slow-catalog")
    save(run_report(file, "passed", run_id="existing"), tmp_path / "reports" / "a")
    execute, lines = fake_execute("failed"), []
    matrix, _ = collect(tmp_path, "missing", execute, progress=lines.append)
    assert [name for name, _ in execute.calls] == ["catalog-down"]
    out_dir = execute.calls[0][1]
    assert out_dir.parent == tmp_path / "reports" and out_dir.name[:8].isdigit()
    down, slow = matrix.cells
    assert (down.ran, down.verdict, down.run_id, down.report) == (True, "failed", "fresh", f"../{out_dir.name}/report.html")
    assert (slow.ran, slow.run_id) == (False, "existing")
    assert lines[0] == "scenario 1 of 1: catalog-down (catalog x down): running"
    assert lines[1].startswith("scenario 1 of 1: catalog-down (catalog x down): failed (")
    assert matrix.status == "failed"


def test_always_runs_every_scenario(tmp_path, fake_execute):
    file = write_scenario(tmp_path / "scenarios", "slow-catalog")
    save(run_report(file, "failed", run_id="existing"), tmp_path / "reports" / "a")
    execute = fake_execute("passed")
    matrix, _ = collect(tmp_path, "always", execute)
    assert len(execute.calls) == 1 and matrix.cells[0].run_id == "fresh" and matrix.status == "passed"


def test_a_run_that_cannot_start_is_a_blank_cell_with_its_error(tmp_path, fake_execute):
    write_scenario(tmp_path / "scenarios", "slow-catalog")
    execute = fake_execute(raises=ScenarioError(["x.yaml:1:1: target.compose: no such file"]))
    matrix, _ = collect(tmp_path, "missing", execute)
    [cell] = matrix.cells
    assert (cell.verdict, cell.status, cell.error) == ("not run", "error", "x.yaml:1:1: target.compose: no such file")
    assert matrix.status == "error"


def test_ctrl_c_stops_the_runs_and_draws_what_was_done(tmp_path, fake_execute):
    write_scenario(tmp_path / "scenarios", "a-first")
    write_scenario(tmp_path / "scenarios", "b-second", failure_mode="down")
    execute = fake_execute(raises=KeyboardInterrupt())
    matrix, _ = collect(tmp_path, "missing", execute)
    assert len(execute.calls) == 1 and matrix.status == "interrupted"
    assert [c.verdict for c in matrix.cells] == ["not run", "not run"]


def test_the_key_picks_a_named_expectation_and_its_first_window(tmp_path):
    file = write_scenario(tmp_path / "scenarios", "slow-catalog", key="steady baseline")
    save(run_report(file, "passed"), tmp_path / "reports" / "a")
    [cell] = collect(tmp_path)[0].cells
    assert (cell.key, cell.metric, cell.observed) == ("steady baseline", "error_rate", 0.0)
    from harness.report.matrix import key_result

    report = run_report(file).model_copy(update={"expectations": [
        *run_report(file).expectations[:1],
        run_report(file).expectations[1].__class__("steady baseline [recovery:x]", True, 0.5, 1, "<", "recovery:x",
                                                   "error_rate", "")]})
    assert key_result(report, "steady baseline").window == "baseline"
    assert key_result(report, "absent") is None


def test_newest_report_ignores_a_report_of_a_file_of_another_name(tmp_path):
    file = write_scenario(tmp_path / "scenarios", "slow-catalog")
    report = run_report(file)
    moved = report.model_copy(update={"scenario": report.scenario.model_copy(update={"path": "x/other.yaml"})})
    save(moved, tmp_path / "reports" / "a")
    [tagged] = tagged_scenarios(tmp_path / "scenarios")
    assert newest_report(index_reports(tmp_path / "reports"), tagged.loaded) is None


def test_a_directory_without_tags_or_with_an_invalid_scenario_is_refused(tmp_path):
    with pytest.raises(MatrixUsageError, match="not a directory"):
        tagged_scenarios(tmp_path / "nowhere")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "untagged.yaml").write_text((Path(__file__).parents[3] / "scenarios/quickstart.yaml").read_text()
                                                  .replace("../docker-compose.yml", "../../docker-compose.yml"))
    with pytest.raises(MatrixUsageError, match="no scenario has a matrix: tag"):
        tagged_scenarios(tmp_path / "s")
    write_scenario(tmp_path / "s", "bad", failure_mode="sluggish")
    with pytest.raises(ScenarioError) as caught:
        tagged_scenarios(tmp_path / "s")
    assert caught.value.problems == [f"{tmp_path / 's' / 'bad.yaml'}:3:45: matrix.failure_mode: Input should be "
                                     "'slow', 'hang', 'down', 'resets', 'dns', 'killed replica', 'stopped replica', "
                                     "'frozen replica', 'crash loop', 'node lost', 'starved', 'overload' or "
                                     "'sustained load'"]


@pytest.mark.parametrize("text, seconds", [("24h", 86_400), ("7d", 604_800), ("90m", 5_400), ("1.5d", 129_600),
                                           ("30 s", 30), ("2w", 1_209_600)])
def test_max_age_reads_durations_with_units(text, seconds):
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["7", "0d", "-1h", "7 days", "h", ""])
def test_max_age_refuses_anything_else(text):
    with pytest.raises(MatrixUsageError, match="--max-age"):
        parse_age(text)
