"""``harness matrix``: exit codes, one-line errors, progress on stderr, and runs only when
allowed (harness.run.execute replaced by a fake that writes real report.json files)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import harness.matrix.collect as collect_module
from harness.cli import app
from harness.report.repeat import now_iso
from tests.unit.matrix.conftest import FakeExecute, run_report, save, write_scenario

runner = CliRunner()


@pytest.fixture
def fake(monkeypatch):
    """Install a fake run (status passed); returns it so a test can change its status or look
    at its calls."""
    executor = FakeExecute("passed")
    monkeypatch.setattr(collect_module, "run_once", executor)
    return executor


def invoke(tmp_path, *args: str):
    return runner.invoke(app, ["matrix", str(tmp_path / "scenarios"), "--reports", str(tmp_path / "reports"),
                               "--out", str(tmp_path / "out"), *args])


def fresh_report(tmp_path, name: str, status: str, run: str) -> None:
    file = tmp_path / "scenarios" / f"{name}.yaml"
    save(run_report(file, status, ended_at=now_iso()), tmp_path / "reports" / run)


@pytest.mark.parametrize("statuses, code", [
    (("passed", "passed"), 0), (("passed", "failed"), 1), (("passed", "inconclusive"), 5),
    (("error", "passed"), 3), (("aborted", "inconclusive"), 1),
])
def test_the_exit_code_follows_the_cells(tmp_path, fake, statuses, code):
    write_scenario(tmp_path / "scenarios", "slow")
    write_scenario(tmp_path / "scenarios", "down", failure_mode="down")
    fresh_report(tmp_path, "slow", statuses[0], "a")
    fresh_report(tmp_path, "down", statuses[1], "b")
    result = invoke(tmp_path)
    assert result.exit_code == code, result.output
    assert fake.calls == []
    written = json.loads((tmp_path / "out" / "matrix.json").read_text())
    assert written["status"] == {0: "passed", 1: "failed", 3: "error", 5: "inconclusive"}[code]
    assert f"matrix: {tmp_path / 'out' / 'matrix.md'}" in result.stdout


def test_no_run_never_runs_and_a_blank_cell_exits_5(tmp_path, fake):
    write_scenario(tmp_path / "scenarios", "slow")
    result = invoke(tmp_path, "--no-run")
    assert (result.exit_code, fake.calls) == (5, [])
    assert "not run" in (tmp_path / "out" / "matrix.md").read_text()


def test_a_missing_report_is_run_with_progress_on_stderr(tmp_path, fake):
    write_scenario(tmp_path / "scenarios", "slow")
    result = invoke(tmp_path)
    assert result.exit_code == 0, result.output
    assert [name for name, _ in fake.calls] == ["slow"]
    assert "scenario 1 of 1: slow (catalog x slow): running" in result.stderr
    assert fake.calls[0][1].parent == tmp_path / "reports"


def test_run_reruns_what_has_a_report_and_a_stale_one_exits_5_without_it(tmp_path, fake):
    write_scenario(tmp_path / "scenarios", "slow")
    save(run_report(tmp_path / "scenarios" / "slow.yaml", "passed", ended_at="2020-01-01T00:00:00.000Z"),
         tmp_path / "reports" / "old")
    stale = invoke(tmp_path, "--max-age", "24h")
    assert (stale.exit_code, fake.calls) == (5, [])
    assert "stale" in (tmp_path / "out" / "matrix.md").read_text()
    rerun = invoke(tmp_path, "--run")
    assert (rerun.exit_code, len(fake.calls)) == (0, 1)


def test_a_run_that_cannot_start_is_one_line_and_exit_3(tmp_path, monkeypatch):
    from harness.errors import OutputDirError

    monkeypatch.setattr(collect_module, "run_once", FakeExecute(raises=OutputDirError("reports/x: not writable")))
    write_scenario(tmp_path / "scenarios", "slow")
    result = invoke(tmp_path)
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "scenario 1 of 1: slow (catalog x slow): could not run: reports/x: not writable" in result.stderr


@pytest.mark.parametrize("args, message", [
    (("--run", "--no-run"), "error: give at most one of --run and --no-run"),
    (("--max-age", "soon"), "error: --max-age 'soon': write a positive duration with a unit, like 24h, 7d or 90m"),
])
def test_usage_errors_exit_2_with_one_line(tmp_path, fake, args, message):
    write_scenario(tmp_path / "scenarios", "slow")
    result = invoke(tmp_path, *args)
    assert (result.exit_code, result.stderr.strip(), fake.calls) == (2, message, [])


def test_an_invalid_scenario_exits_2_naming_its_line_and_runs_nothing(tmp_path, fake):
    write_scenario(tmp_path / "scenarios", "slow")
    bad = write_scenario(tmp_path / "scenarios", "typo")
    bad.write_text(bad.read_text().replace("failure_mode:", "failure_mod:"))
    result = invoke(tmp_path)
    assert result.exit_code == 2 and fake.calls == []
    assert f"{bad}:3:31: matrix.failure_mod: unknown key 'failure_mod'; did you mean 'failure_mode'?" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_directory_without_tagged_scenarios_exits_2(tmp_path, fake):
    (tmp_path / "scenarios").mkdir()
    result = invoke(tmp_path)
    assert result.exit_code == 2 and "no scenario has a matrix: tag" in result.stderr


def test_an_out_that_cannot_be_written_exits_2_with_one_line(tmp_path, fake):
    write_scenario(tmp_path / "scenarios", "slow")
    fresh_report(tmp_path, "slow", "passed", "a")
    (tmp_path / "out").write_text("a file")
    result = invoke(tmp_path)
    assert result.exit_code == 2 and result.stderr.strip().startswith(f"error: {tmp_path / 'out'}: cannot write")


def test_the_default_out_is_a_matrix_directory_under_reports(tmp_path, fake, monkeypatch):
    write_scenario(tmp_path / "scenarios", "slow")
    fresh_report(tmp_path, "slow", "passed", "a")
    result = runner.invoke(app, ["matrix", str(tmp_path / "scenarios"), "--reports", str(tmp_path / "reports")])
    assert result.exit_code == 0, result.output
    [out] = (tmp_path / "reports").glob("matrix-*")
    assert (out / "matrix.html").is_file()
    assert "../a/report.html" in (out / "matrix.md").read_text()
